"""Pkcs11Key against a real SoftHSM2 token holding a demo signatory's key.

The token is built once per module the way an administrator would: ``softhsm2-util
--init-token``, the key from the signatory's PKCS#12 (converted to PKCS#8 with
``cryptography``) through ``softhsm2-util --import``, the certificate and the issuing CA's
certificate through ``pkcs11-tool --write-object``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.sign.pkcs11 import PKCS11Signer

from signatures.errors import KeyAccessError
from signatures.fields import prepare_for_signing
from signatures.pkcs11 import Pkcs11Key, _SerialPkcs11Signer
from signatures.pki import DemoPki, DemoSignatory
from signatures.profiles import (
    FieldSpec,
    PadesLevel,
    ServiceUrls,
    SignerProfile,
    TrustSettings,
)
from signatures.signing import sign_pdf
from signatures.validation import validate_pdf
from tests.signatures.softhsm import SoftHsmToken, create_token, missing_tools

pytestmark = pytest.mark.skipif(
    bool(missing_tools()), reason=f"SoftHSM2/OpenSC missing: {', '.join(missing_tools())}"
)

TOKEN_LABEL = "e-Izba karta"
USER_PIN = "246810"
SO_PIN = "13579135"
KEY_LABEL = "podpis"
KEY_ID = bytes.fromhex("a1")
FIELD = "podpis-1"
MIXED_LABEL = "pomylony"
MIXED_ID = bytes.fromhex("b2")
EC_LABEL = "podpis-ec"
EC_ID = bytes.fromhex("ec")


def _self_signed_ec() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A P-256 key with a self-signed signing certificate (its own trust anchor)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Karta EC (test)")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture(scope="module")
def signatory(demo_pki: DemoPki) -> DemoSignatory:
    return demo_pki.signatories[0]


@pytest.fixture(scope="module")
def softhsm_token(
    tmp_path_factory: pytest.TempPathFactory, demo_pki: DemoPki, signatory: DemoSignatory
) -> Iterator[SoftHsmToken]:
    """A SoftHSM2 token with the signatory's key, certificate and the issuing CA."""
    p12 = demo_pki.p12_path(signatory.key_id).read_bytes()
    key, cert, others = pkcs12.load_key_and_certificates(p12, signatory.passphrase.encode())
    assert key is not None
    assert cert is not None
    token = create_token(
        tmp_path_factory.mktemp("softhsm"), label=TOKEN_LABEL, so_pin=SO_PIN, pin=USER_PIN
    )
    try:
        token.import_key(key, label=KEY_LABEL, key_id=KEY_ID)
        token.import_certificate(cert, label=KEY_LABEL, cert_id=KEY_ID)
        intermediate = next(c for c in others if c.subject != c.issuer)
        token.import_certificate(intermediate, label="CA", cert_id=bytes.fromhex("ca"))
        # A mix-up: someone else's key under the signatory's certificate.
        other = demo_pki.signatories[1]
        other_key, _, _ = pkcs12.load_key_and_certificates(
            demo_pki.p12_path(other.key_id).read_bytes(), other.passphrase.encode()
        )
        assert other_key is not None
        token.import_key(other_key, label=MIXED_LABEL, key_id=MIXED_ID)
        token.import_certificate(cert, label=MIXED_LABEL, cert_id=MIXED_ID)
        ec_key, ec_cert = _self_signed_ec()
        token.import_key(ec_key, label=EC_LABEL, key_id=EC_ID)
        token.import_certificate(ec_cert, label=EC_LABEL, cert_id=EC_ID)
        yield token
    finally:
        token.restore_env()


@pytest.fixture
def token_key(softhsm_token: SoftHsmToken) -> Iterator[Pkcs11Key]:
    with Pkcs11Key.open(
        module_path=softhsm_token.module_path,
        token_label=TOKEN_LABEL,
        pin=USER_PIN,
        key_label=KEY_LABEL,
    ) as key:
        yield key


@pytest.fixture(scope="module")
def unsigned_pdf(sample_pdf: bytes) -> bytes:
    return prepare_for_signing(sample_pdf, [FieldSpec(FIELD)])


def test_opens_the_token_and_loads_certificate_and_chain(
    token_key: Pkcs11Key, demo_pki: DemoPki, signatory: DemoSignatory
) -> None:
    signer = token_key.signer()
    assert signer is token_key.signer()  # kept loaded, not rebuilt per call
    assert token_key.signing_cert.dump() == demo_pki.certificate(signatory.key_id).dump()
    registry = {c.dump() for c in signer.cert_registry}
    assert demo_pki.intermediate_cert.dump() in registry  # pulled from the token
    assert TOKEN_LABEL in token_key.description


def test_signs_b_lta_that_validates(
    token_key: Pkcs11Key,
    unsigned_pdf: bytes,
    service_urls: ServiceUrls,
    trust_settings: TrustSettings,
    signatory: DemoSignatory,
    pdfsig: Callable[[bytes], Any],
) -> None:
    signed = sign_pdf(
        unsigned_pdf,
        key=token_key,
        field_name=FIELD,
        profile=signatory.profile(reason="Podpisanie listu intencyjnego", location="Warszawa"),
        trust=trust_settings,
        level=PadesLevel.B_LTA,
        services=service_urls,
    )
    report = validate_pdf(signed, trust=trust_settings)
    assert report.valid, [s.problems for s in report.signatures]
    [signature] = report.signatures
    assert signature.signer == signatory.full_name
    assert signature.pades_level is PadesLevel.B_LTA
    assert report.pades_level is PadesLevel.B_LTA
    [poppler] = pdfsig(signed).regular
    assert poppler.valid, poppler.validation


def test_finds_the_key_by_certificate_id_and_adds_the_given_chain(
    softhsm_token: SoftHsmToken, demo_pki: DemoPki, signatory: DemoSignatory
) -> None:
    with Pkcs11Key.open(
        module_path=softhsm_token.module_path,
        token_label=TOKEN_LABEL,
        pin=USER_PIN,
        cert_id=KEY_ID,
        chain=[demo_pki.root_cert],
        pull_token_certs=False,
    ) as key:
        assert key.signing_cert.dump() == demo_pki.certificate(signatory.key_id).dump()
        registry = {c.dump() for c in key.signer().cert_registry}
        assert demo_pki.root_cert.dump() in registry
        assert demo_pki.intermediate_cert.dump() not in registry  # not pulled: turned off


def test_wrong_pin_is_a_key_access_error_and_nothing_is_signed(
    softhsm_token: SoftHsmToken, unsigned_pdf: bytes
) -> None:
    before = bytes(unsigned_pdf)
    with pytest.raises(KeyAccessError, match=f"wrong PIN for token '{TOKEN_LABEL}'"):
        Pkcs11Key.open(
            module_path=softhsm_token.module_path,
            token_label=TOKEN_LABEL,
            pin="000000",
            key_label=KEY_LABEL,
        )
    assert unsigned_pdf == before
    # The token still accepts the right PIN afterwards (SoftHSM2 does not lock it).
    with Pkcs11Key.open(
        module_path=softhsm_token.module_path,
        token_label=TOKEN_LABEL,
        pin=USER_PIN,
        key_label=KEY_LABEL,
    ) as key:
        assert key.signer() is not None


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"key_label": "no-such-key"}, "Could not find .* label 'no-such-key'"),
        ({"key_id": b"\x99"}, "Could not find .* ID '99'"),
    ],
)
def test_missing_key_names_what_is_missing(
    softhsm_token: SoftHsmToken, selector: dict[str, Any], message: str
) -> None:
    with pytest.raises(KeyAccessError, match=f"token '{TOKEN_LABEL}': {message}"):
        Pkcs11Key.open(
            module_path=softhsm_token.module_path,
            token_label=TOKEN_LABEL,
            pin=USER_PIN,
            **selector,
        )


def test_missing_token_names_the_label_and_the_tokens_present(
    softhsm_token: SoftHsmToken,
) -> None:
    with pytest.raises(KeyAccessError, match=r"no PKCS#11 token labelled 'Rybnik'.*e-Izba karta"):
        Pkcs11Key.open(
            module_path=softhsm_token.module_path,
            token_label="Rybnik",
            pin=USER_PIN,
            key_label=KEY_LABEL,
        )


def test_missing_module_is_a_key_access_error(tmp_path: Path) -> None:
    with pytest.raises(KeyAccessError, match="cannot load PKCS#11 module"):
        Pkcs11Key.open(
            module_path=tmp_path / "libnothing.so",
            token_label=TOKEN_LABEL,
            pin=USER_PIN,
            key_label=KEY_LABEL,
        )


def test_a_selector_is_required(softhsm_token: SoftHsmToken) -> None:
    with pytest.raises(ValueError, match="key_label"):
        Pkcs11Key.open(module_path=softhsm_token.module_path, token_label=TOKEN_LABEL, pin=None)


def test_close_logs_out_and_is_idempotent(softhsm_token: SoftHsmToken) -> None:
    import pkcs11

    def private_keys_visible_without_login() -> bool:
        # PKCS#11 login state belongs to the application, not to one session: while our
        # session is logged in, a fresh public session sees the private key too.
        token = pkcs11.lib(str(softhsm_token.module_path)).get_token(token_label=TOKEN_LABEL)
        with token.open() as session:
            query = {pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY}
            return bool(list(session.get_objects(query)))

    key = Pkcs11Key.open(
        module_path=softhsm_token.module_path,
        token_label=TOKEN_LABEL,
        pin=USER_PIN,
        key_label=KEY_LABEL,
    )
    assert private_keys_visible_without_login()
    key.close()
    key.close()
    assert not private_keys_visible_without_login()
    with pytest.raises(KeyAccessError, match="closed"):
        key.signer()


def test_a_key_that_does_not_match_the_certificate_is_refused(
    softhsm_token: SoftHsmToken,
) -> None:
    with pytest.raises(KeyAccessError, match="private key does not match the certificate"):
        Pkcs11Key.open(
            module_path=softhsm_token.module_path,
            token_label=TOKEN_LABEL,
            pin=USER_PIN,
            key_label=MIXED_LABEL,
        )


def test_one_key_signs_from_several_threads(
    token_key: Pkcs11Key,
    unsigned_pdf: bytes,
    trust_settings: TrustSettings,
    signatory: DemoSignatory,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def sign(_: int) -> bytes:
        return sign_pdf(
            unsigned_pdf,
            key=token_key,
            field_name=FIELD,
            profile=signatory.profile(),
            trust=trust_settings,
            level=PadesLevel.B_B,
        )

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(sign, range(4)))
    for signed in results:
        [signature] = validate_pdf(signed, trust=trust_settings).signatures
        assert signature.intact
        assert signature.cryptographically_valid


def test_a_cancelled_signature_does_not_strand_the_token_lock(token_key: Pkcs11Key) -> None:
    """A request cancelled while another one holds the token (an HTTP timeout) must not
    leave the lock taken by an orphaned worker thread: later signatures would hang."""
    import threading

    signer = token_key.signer()
    assert isinstance(signer, _SerialPkcs11Signer)
    signer.operation_lock.acquire()  # another request is signing right now
    threading.Timer(0.5, signer.operation_lock.release).start()

    async def request() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(signer.async_sign_raw(b"list intencyjny", "sha256"), 0.2)

    asyncio.run(request())  # returns once the orphaned worker has finished
    assert not signer.operation_lock.locked()
    assert asyncio.run(signer.async_sign_raw(b"list intencyjny", "sha256"))


def test_a_signer_kept_after_close_refuses_to_sign(softhsm_token: SoftHsmToken) -> None:
    key = Pkcs11Key.open(
        module_path=softhsm_token.module_path,
        token_label=TOKEN_LABEL,
        pin=USER_PIN,
        key_label=KEY_LABEL,
    )
    signer = key.signer()
    assert asyncio.run(signer.async_sign_raw(b"list intencyjny", "sha256"))
    key.close()
    with pytest.raises(KeyAccessError, match="closed"):
        asyncio.run(signer.async_sign_raw(b"list intencyjny", "sha256"))


def test_ec_key_on_a_token_without_hash_and_sign_ecdsa(
    softhsm_token: SoftHsmToken, unsigned_pdf: bytes
) -> None:
    """SoftHSM2 offers CKM_ECDSA only: pyHanko hashes and the token signs the digest."""
    with Pkcs11Key.open(
        module_path=softhsm_token.module_path,
        token_label=TOKEN_LABEL,
        pin=USER_PIN,
        key_label=EC_LABEL,
    ) as key:
        signer = key.signer()
        assert isinstance(signer, PKCS11Signer)
        assert signer.use_raw_mechanism
        anchor = TrustSettings(trust_roots=(key.signing_cert,))
        signed = sign_pdf(
            unsigned_pdf,
            key=key,
            field_name=FIELD,
            profile=SignerProfile(full_name="Karta EC (test)", function="test"),
            trust=anchor,
            level=PadesLevel.B_B,
        )
    [signature] = validate_pdf(signed, trust=anchor).signatures
    assert signature.intact
    assert signature.cryptographically_valid
