"""Two-step signing: the server hands out a digest and never sees the key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from signatures import (
    ExternalSignatureProblem,
    FieldProblem,
    FieldSpec,
    PadesLevel,
    Pkcs12Key,
    PreparedSignature,
    ServiceUrls,
    TimestampUnavailable,
    TrustSettings,
    complete_external_signature,
    prepare_external_signature,
    prepare_for_signing,
    sign_pdf,
    validate_pdf,
)
from signatures.pki import DemoPki
from tests.pdfsig import PdfsigResult, assert_pdfsig_valid
from tests.signatures.conftest import FIELDS
from tests.signatures.sample import make_sample_pdf
from tests.support import free_port


def card_sign(demo_pki: DemoPki, key_id: str, digest: bytes) -> bytes:
    """What a smart card does: a raw RSA PKCS#1 v1.5 signature over a SHA-256 digest."""
    key = serialization.load_pem_private_key(demo_pki.key_path(key_id).read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def _prepare(
    pdf: bytes,
    key_id: str,
    field: str,
    demo_pki: DemoPki,
    trust: TrustSettings,
    services: ServiceUrls | None,
    level: PadesLevel = PadesLevel.B_LTA,
) -> PreparedSignature:
    return prepare_external_signature(
        pdf,
        field_name=field,
        signer_cert=demo_pki.certificate(key_id),
        chain=demo_pki.chain(key_id),
        profile=demo_pki.signatory(key_id).profile(),
        trust=trust,
        level=level,
        services=services,
    )


@pytest.fixture(scope="module")
def first_signed(
    prepared_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> bytes:
    return sign_pdf(
        prepared_pdf,
        key=signer_keys["prezes"],
        field_name=FIELDS[0],
        profile=demo_pki.signatory("prezes").profile(),
        trust=trust_settings,
        level=PadesLevel.B_LTA,
        services=service_urls,
    )


def test_mayor_signs_with_a_card_after_e_izba_and_it_validates(
    first_signed: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    prepared = _prepare(
        first_signed, "prezydent", FIELDS[1], demo_pki, trust_settings, service_urls
    )
    assert prepared.digest_algorithm == "sha256"
    assert prepared.signature_mechanism == "sha256_rsa"
    assert prepared.signature_algorithm_oid == "1.2.840.113549.1.1.11"
    assert len(prepared.digest_to_sign) == 32
    stored = bytes(prepared.state)  # e.g. a BLOB column between two HTTP requests

    value = card_sign(demo_pki, "prezydent", prepared.digest_to_sign)
    signed = complete_external_signature(stored, value, trust=trust_settings, services=service_urls)

    report = validate_pdf(signed, trust=trust_settings)
    assert report.valid, [s.problems for s in report.signatures]
    mayor = report.signatures[1]
    assert mayor.signer == "Piotr Kuczera"
    assert mayor.locks_document
    assert mayor.pades_level is PadesLevel.B_LTA
    assert_pdfsig_valid(pdfsig(signed), 2)


def test_a_wrong_value_or_a_corrupt_state_is_refused(
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    one_field = prepare_for_signing(make_sample_pdf(), [FieldSpec(FIELDS[0])])
    prepared = _prepare(
        one_field, "prezes", FIELDS[0], demo_pki, trust_settings, None, PadesLevel.B_B
    )
    wrong_key = card_sign(demo_pki, "prezydent", prepared.digest_to_sign)
    with pytest.raises(ExternalSignatureProblem, match="does not match"):
        complete_external_signature(prepared.state, wrong_key, trust=trust_settings)
    right = card_sign(demo_pki, "prezes", prepared.digest_to_sign)
    with pytest.raises(ExternalSignatureProblem):
        complete_external_signature(b"garbage", right, trust=trust_settings)
    corrupted = bytearray(prepared.state)
    corrupted[-200] ^= 0xFF  # inside the prepared PDF
    with pytest.raises(ExternalSignatureProblem, match="digest"):
        complete_external_signature(bytes(corrupted), right, trust=trust_settings)
    signed = complete_external_signature(prepared.state, right, trust=trust_settings)
    report = validate_pdf(signed, trust=trust_settings, offline=False)
    assert report.valid
    assert report.signatures[0].pades_level is PadesLevel.B_B
    assert_pdfsig_valid(pdfsig(signed), 1)


def test_tsa_down_at_completion_can_be_retried_with_the_same_state(
    prepared_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    prepared = _prepare(
        prepared_pdf, "prezes", FIELDS[0], demo_pki, trust_settings, service_urls, PadesLevel.B_T
    )
    value = card_sign(demo_pki, "prezes", prepared.digest_to_sign)
    dead = ServiceUrls(tsa_url=f"http://127.0.0.1:{free_port()}/tsa", timeout=2)
    with pytest.raises(TimestampUnavailable):
        complete_external_signature(prepared.state, value, trust=trust_settings, services=dead)
    signed = complete_external_signature(
        prepared.state, value, trust=trust_settings, services=service_urls
    )
    report = validate_pdf(signed, trust=trust_settings, offline=False)
    assert report.valid
    assert report.signatures[0].pades_level is PadesLevel.B_T
    assert_pdfsig_valid(pdfsig(signed), 1)


def test_prepare_checks_the_field_first(
    prepared_pdf: bytes, demo_pki: DemoPki, trust_settings: TrustSettings
) -> None:
    with pytest.raises(FieldProblem, match="out of order"):
        _prepare(prepared_pdf, "prezydent", FIELDS[1], demo_pki, trust_settings, None)
