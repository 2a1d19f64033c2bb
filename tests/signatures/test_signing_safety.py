"""What signing refuses: revoked signers without services, mismatched keys, B-B among
several signatories, tampered two-step states; what it adds: the TSA's revocation data,
the demo warning on the stamp."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import crl
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signatures import (
    CertificateProblem,
    CertificateReason,
    ExternalSignatureProblem,
    FieldProblem,
    FieldSpec,
    KeyAccessError,
    PadesLevel,
    Pkcs12Key,
    RevocationUnavailable,
    ServiceUrls,
    TrustSettings,
    complete_external_signature,
    prepare_external_signature,
    prepare_for_signing,
    sign_pdf,
    validate_pdf,
)
from signatures.archive import renew_archive_timestamp
from signatures.external import _MAGIC
from signatures.keys import _LoadedKeySigner
from signatures.ltv import Network, _collect_for, _Collected
from signatures.pki import DemoPki, DemoSignatory, create_demo_pki
from signatures.services import DemoServices
from signatures.stamp import DEMO_LINE
from tests.signatures.conftest import FIELDS
from tests.signatures.sample import make_sample_pdf
from tests.support import free_port


def _card_sign(pki: DemoPki, key_id: str, digest: bytes) -> bytes:
    key = serialization.load_pem_private_key(pki.key_path(key_id).read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def _other_pki(directory: Path) -> DemoPki:
    return create_demo_pki(
        directory,
        signatories=(DemoSignatory("obcy", "Olga Obca", "Gmina Obca", "Wójt", passphrase="o"),),
        base_url=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="module")
def foreign_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPki]:
    """A second demo PKI (another root), with its services running."""
    pki = _other_pki(tmp_path_factory.mktemp("foreign-pki"))
    services = DemoServices(pki).start()
    yield pki
    services.stop()


# -- revocation before signing (finding 5) -------------------------------------------


def test_a_revoked_signer_is_refused_at_b_b_without_services(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,  # the demo OCSP responder and CRLs are up
) -> None:
    signed: bytes | None = None
    with pytest.raises(CertificateProblem) as caught:
        signed = sign_pdf(
            one_field_pdf,
            key=signer_keys["revoked"],
            field_name=FIELDS[0],
            profile=demo_pki.signatory("revoked").profile(),
            trust=trust_settings,
            level=PadesLevel.B_B,
            services=None,
        )
    assert caught.value.reason is CertificateReason.REVOKED
    assert signed is None


def test_unreachable_revocation_services_refuse_b_b(tmp_path: Path, one_field_pdf: bytes) -> None:
    pki = _other_pki(tmp_path / "pki")  # its OCSP responder and CRLs never start
    with pki.key("obcy") as key, pytest.raises(RevocationUnavailable):
        sign_pdf(
            one_field_pdf,
            key=key,
            field_name=FIELDS[0],
            profile=pki.signatory("obcy").profile(),
            trust=pki.trust_settings(),
            level=PadesLevel.B_B,
        )


# -- B-B among several signatories (finding 1, signing side) --------------------------


def test_b_b_is_refused_in_a_document_with_several_signatories(
    prepared_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
) -> None:
    with pytest.raises(FieldProblem, match="must be at least B-T"):
        sign_pdf(
            prepared_pdf,
            key=signer_keys["prezes"],
            field_name=FIELDS[0],
            profile=demo_pki.signatory("prezes").profile(),
            trust=trust_settings,
            level=PadesLevel.B_B,
        )
    with pytest.raises(FieldProblem, match="must be at least B-T"):
        prepare_external_signature(
            prepared_pdf,
            field_name=FIELDS[0],
            signer_cert=demo_pki.certificate("prezes"),
            chain=demo_pki.chain("prezes"),
            profile=demo_pki.signatory("prezes").profile(),
            trust=trust_settings,
            level=PadesLevel.B_B,
        )


# -- the signature value is checked before returning (finding 6) ----------------------


def test_a_key_that_does_not_match_its_certificate_signs_nothing(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    wrong = serialization.load_pem_private_key(demo_pki.key_path("prezydent").read_bytes(), None)
    assert isinstance(wrong, rsa.RSAPrivateKey)
    cert = demo_pki.certificate("prezes")
    signer = _LoadedKeySigner(
        private_key=wrong,
        signing_cert=cert,
        cert_registry=SimpleCertificateStore.from_certs([cert, *demo_pki.chain("prezes")]),
    )
    for level in (PadesLevel.B_B, PadesLevel.B_LTA):
        with pytest.raises(KeyAccessError, match="does not match the certificate"):
            sign_pdf(
                one_field_pdf,
                key=Pkcs12Key(signer, description="a mismatched key source"),
                field_name=FIELDS[0],
                profile=demo_pki.signatory("prezes").profile(),
                trust=trust_settings,
                level=level,
                services=service_urls,
            )


# -- the external-signing state (finding 7) -------------------------------------------


def _decode(state: bytes) -> tuple[dict[str, Any], bytes]:
    offset = len(_MAGIC)
    (length,) = struct.unpack(">I", state[offset : offset + 4])
    return json.loads(state[offset + 4 : offset + 4 + length]), state[offset + 4 + length :]


def _encode(header: dict[str, Any], pdf: bytes) -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return _MAGIC + struct.pack(">I", len(head)) + head + pdf


def _prepare(pdf: bytes, pki: DemoPki, key_id: str, trust: TrustSettings, **kw: Any) -> Any:
    return prepare_external_signature(
        pdf,
        field_name=FIELDS[0],
        signer_cert=pki.certificate(key_id),
        chain=pki.chain(key_id),
        profile=pki.signatory(key_id).profile(),
        trust=trust,
        level=PadesLevel.B_B,
        **kw,
    )


def test_a_state_for_another_document_is_refused(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    other = prepare_for_signing(make_sample_pdf(("PRZELEW 1 000 000 zł",)), [FieldSpec(FIELDS[0])])
    approved = _prepare(one_field_pdf, demo_pki, "prezes", trust_settings)
    swapped = _prepare(other, demo_pki, "prezes", trust_settings)
    value = _card_sign(demo_pki, "prezes", approved.digest_to_sign)
    header, _ = _decode(approved.state)
    other_header, other_pdf = _decode(swapped.state)
    header["document_digest"] = other_header["document_digest"]
    header["region"] = other_header["region"]
    with pytest.raises(ExternalSignatureProblem, match="messageDigest"):
        complete_external_signature(_encode(header, other_pdf), value, trust=trust_settings)


def test_a_state_naming_another_certificate_is_refused(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    prepared = _prepare(one_field_pdf, demo_pki, "prezes", trust_settings)
    header, pdf = _decode(prepared.state)
    # the Mayor's certificate and value over the President's signed attributes
    header["certificate"] = base64.b64encode(demo_pki.certificate("prezydent").dump()).decode()
    value = _card_sign(demo_pki, "prezydent", prepared.digest_to_sign)
    with pytest.raises(ExternalSignatureProblem, match="signing-certificate-v2"):
        complete_external_signature(_encode(header, pdf), value, trust=trust_settings)


def test_the_certificate_is_checked_again_at_completion(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    foreign_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    prepared = _prepare(one_field_pdf, foreign_pki, "obcy", foreign_pki.trust_settings())
    value = _card_sign(foreign_pki, "obcy", prepared.digest_to_sign)
    with pytest.raises(CertificateProblem) as caught:
        complete_external_signature(prepared.state, value, trust=trust_settings)
    assert caught.value.reason is CertificateReason.UNTRUSTED


def test_a_state_key_authenticates_the_state(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    secret = b"app secret"
    prepared = _prepare(one_field_pdf, demo_pki, "prezes", trust_settings, state_key=secret)
    value = _card_sign(demo_pki, "prezes", prepared.digest_to_sign)
    altered = bytearray(prepared.state)
    altered[-200] ^= 0xFF
    with pytest.raises(ExternalSignatureProblem, match="HMAC"):
        complete_external_signature(bytes(altered), value, trust=trust_settings, state_key=secret)
    with pytest.raises(ExternalSignatureProblem, match="HMAC"):
        complete_external_signature(prepared.state, value, trust=trust_settings, state_key=b"x")
    with pytest.raises(ExternalSignatureProblem, match="state_key"):
        complete_external_signature(prepared.state, value, trust=trust_settings)
    signed = complete_external_signature(
        prepared.state, value, trust=trust_settings, state_key=secret
    )
    assert validate_pdf(signed, trust=trust_settings, offline=False).valid


# -- the TSA's revocation data (finding 8) --------------------------------------------


def _dss_crl_issuers(pdf: bytes) -> list[str]:
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf), strict=False))
    return [
        crl.CertificateList.load(ref.get_object().data).issuer.native["common_name"]
        for ref in dss.crls
    ]


def test_the_tsa_ca_revocation_data_lands_in_the_dss(
    lta_two_signed: bytes, demo_pki: DemoPki, trust_settings: TrustSettings
) -> None:
    """The TSA's path goes on to the root, whose CRL covers the TSA certificate."""
    tsa_issuer = demo_pki.tsa_cert.issuer.native["common_name"]
    assert tsa_issuer == demo_pki.root_cert.subject.native["common_name"]
    assert tsa_issuer in _dss_crl_issuers(lta_two_signed)

    reader = PdfFileReader(io.BytesIO(lta_two_signed), strict=False)
    token = reader.embedded_timestamp_signatures[-1].signed_data

    async def collect() -> _Collected:
        collected = _Collected()
        async with Network(demo_pki.service_urls()) as network:
            await _collect_for(
                token,
                trust=trust_settings,  # the TSA certificate is also a timestamp anchor
                network=network,
                collected=collected,
                timestamp=True,
                required=True,
            )
        return collected

    collected = asyncio.run(collect())
    [path] = collected.paths
    assert [c.dump() for c in path] == [demo_pki.root_cert.dump(), demo_pki.tsa_cert.dump()]
    assert [c.issuer.native["common_name"] for c in collected.crls] == [tsa_issuer]


def test_renewal_requires_the_previous_timestamp_validation_data(
    tmp_path: Path, one_field_pdf: bytes
) -> None:
    old = _other_pki(tmp_path / "old")
    services = DemoServices(old).start()
    try:
        with old.key("obcy") as key:
            signed = sign_pdf(
                one_field_pdf,
                key=key,
                field_name=FIELDS[0],
                profile=old.signatory("obcy").profile(),
                trust=old.trust_settings(),
                level=PadesLevel.B_LTA,
                services=old.service_urls(),
            )
    finally:
        services.stop()
    new = _other_pki(tmp_path / "new")  # a later TSA certificate
    new_services = DemoServices(new).start()
    try:
        # the old TSA's CA is unreachable: renewing would protect nothing for it
        with pytest.raises(RevocationUnavailable):
            renew_archive_timestamp(signed, services=new.service_urls())
    finally:
        new_services.stop()


# -- the demo warning on the stamp (finding 10) ---------------------------------------


def test_a_demo_signature_says_so_on_the_stamp(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
    tmp_path: Path,
) -> None:
    signed = sign_pdf(
        one_field_pdf,
        key=signer_keys["prezes"],
        field_name=FIELDS[0],
        profile=demo_pki.signatory("prezes").profile(),
        trust=trust_settings,
        level=PadesLevel.B_B,
    )
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert DEMO_LINE in text
