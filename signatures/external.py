"""Two-step (external) signing: the server never holds the key.

1. :func:`prepare_external_signature` checks the field and the certificate, freezes the
   document with a reserved signature placeholder and returns a :class:`PreparedSignature`:
   ``digest_to_sign`` (SHA-256 of the DER signed attributes) goes to the signer (a smart
   card through the browser, a CSC ``signHash`` call...), ``state`` goes to the database.
2. :func:`complete_external_signature` takes the stored state and the returned signature
   value, checks the value against the certificate, embeds it, and adds the signature
   timestamp, validation data and document timestamp as the level requires.

``state`` is our own byte format (not a pickle of pyHanko objects): a magic prefix, a JSON
header with the signed attributes, digest, reserved region, certificates and settings, and
the prepared PDF. If the TSA is down at step 2, nothing is lost: the same state and value
can be completed again later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import algos, cms, x509

from ._cms import (
    MD_ALGORITHM,
    check_level_for_signatories,
    check_signature_value,
    reserved_size,
    run_sync,
    signature_metadata,
)
from .errors import ExternalSignatureProblem, SignatureError
from .fields import check_can_sign, document_identifier, read_pdf
from .keys import PadesSignedAttributes
from .ltv import Network, add_long_term_data, check_signer_certificate, find_cause
from .profiles import PadesLevel, ServiceUrls, SignerProfile, TrustSettings
from .stamp import is_demo_certificate, stamp_style, stamp_text

__all__ = [
    "PreparedSignature",
    "async_complete_external_signature",
    "async_prepare_external_signature",
    "complete_external_signature",
    "prepare_external_signature",
]

_MAGIC = b"ESTRATEGIA-EXTSIG\x01"
_MAGIC_MAC = b"ESTRATEGIA-EXTSIG-MAC\x01"
"""A state authenticated with ``state_key``: this prefix, HMAC-SHA256 tag, plain state."""
_MECHANISMS = {
    "rsa": ("sha256_rsa", "1.2.840.113549.1.1.11"),
    "ec": ("sha256_ecdsa", "1.2.840.10045.4.3.2"),
}


@dataclass(frozen=True)
class PreparedSignature:
    """A document waiting for an externally computed signature value."""

    state: bytes
    """Opaque bytes to store until the signature value comes back (prepared PDF included,
    so expect the size of the document plus a few kilobytes)."""

    digest_to_sign: bytes
    """SHA-256 of :attr:`data_to_sign`: what a card's raw RSA/ECDSA operation or a CSC
    ``signHash`` call signs (PKCS#1 v1.5 with a SHA-256 DigestInfo, or ECDSA)."""

    data_to_sign: bytes
    """The DER-encoded signed attributes, for signers that hash themselves
    (e.g. PKCS#11 ``CKM_SHA256_RSA_PKCS``)."""

    digest_algorithm: str
    """Always ``"sha256"``."""

    signature_mechanism: str
    """``"sha256_rsa"`` (RSASSA-PKCS1-v1_5) or ``"sha256_ecdsa"``."""

    signature_algorithm_oid: str
    """The mechanism's OID, as CSC ``signAlgo`` wants it."""

    field_name: str
    """The field being signed."""

    level: PadesLevel
    """The PAdES level the completion will produce."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _encode_state(header: dict[str, Any], pdf: bytes, state_key: bytes | None = None) -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    plain = _MAGIC + struct.pack(">I", len(head)) + head + pdf
    if state_key is None:
        return plain
    return _MAGIC_MAC + hmac.new(state_key, plain, hashlib.sha256).digest() + plain


def _decode_state(state: bytes, state_key: bytes | None = None) -> tuple[dict[str, Any], bytes]:
    if state.startswith(_MAGIC_MAC):
        if state_key is None:
            raise ExternalSignatureProblem("the state is authenticated: pass its state_key")
        tag, state = state[len(_MAGIC_MAC) : len(_MAGIC_MAC) + 32], state[len(_MAGIC_MAC) + 32 :]
        if not hmac.compare_digest(tag, hmac.new(state_key, state, hashlib.sha256).digest()):
            raise ExternalSignatureProblem("the prepared-signature state was altered (HMAC)")
    elif state_key is not None:
        raise ExternalSignatureProblem("the prepared-signature state is not authenticated")
    if not state.startswith(_MAGIC) or len(state) < len(_MAGIC) + 4:
        raise ExternalSignatureProblem("not a prepared-signature state")
    offset = len(_MAGIC)
    (length,) = struct.unpack(">I", state[offset : offset + 4])
    try:
        header = json.loads(state[offset + 4 : offset + 4 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExternalSignatureProblem("corrupt prepared-signature state") from exc
    return header, state[offset + 4 + length :]


def _check_signed_attributes(
    signed_attrs: cms.CMSAttributes, cert: x509.Certificate, document_digest: bytes
) -> None:
    """The stored signed attributes must sign this document, with this certificate."""
    found: dict[str, Any] = {}
    for attr in signed_attrs:
        found[attr["type"].native] = attr["values"][0]
    message_digest = found.get("message_digest")
    if message_digest is None or message_digest.native != document_digest:
        raise ExternalSignatureProblem(
            "the signed attributes do not sign the stored document (messageDigest)"
        )
    signing_cert = found.get("signing_certificate_v2")
    try:
        ess = signing_cert["certs"][0] if signing_cert is not None else None
        algorithm = ess["hash_algorithm"]["algorithm"].native if ess is not None else ""
        matches = ess is not None and (
            hashlib.new(algorithm, cert.dump()).digest() == ess["cert_hash"].native
        )
    except (KeyError, IndexError, ValueError, TypeError):
        matches = False
    if not matches:
        raise ExternalSignatureProblem(
            "the signed attributes name another certificate (signing-certificate-v2)"
        )


def _key_kind(cert: x509.Certificate) -> str:
    algorithm = cert.public_key.algorithm
    if algorithm not in _MECHANISMS:
        raise ExternalSignatureProblem(f"unsupported key algorithm {algorithm}")
    return str(algorithm)


async def async_prepare_external_signature(
    pdf: bytes,
    *,
    field_name: str,
    signer_cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    profile: SignerProfile,
    trust: TrustSettings,
    level: PadesLevel = PadesLevel.B_LTA,
    services: ServiceUrls | None = None,
    document_id: str | None = None,
    state_key: bytes | None = None,
) -> PreparedSignature:
    """Asynchronous :func:`prepare_external_signature`."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers import ExternalSigner, PdfSigner
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    kind = _key_kind(signer_cert)
    mechanism, oid = _MECHANISMS[kind]
    reader = read_pdf(pdf)
    check_can_sign(reader, field_name)
    check_level_for_signatories(reader, field_name, level)
    registry = SimpleCertificateStore.from_certs([signer_cert, *chain])
    placeholder = signer_cert.public_key.bit_size // 8 if kind == "rsa" else 72
    signer = ExternalSigner(
        signer_cert,
        registry,
        signature_value=bytes(placeholder),
        signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mechanism}),
    )
    signer.signed_attr_prov_spec = PadesSignedAttributes(signer_cert)
    meta = signature_metadata(reader, field_name=field_name, profile=profile)
    text = stamp_text(
        profile,
        signed_at=datetime.now(UTC),
        document_id=document_id or document_identifier(reader),
        demo=is_demo_certificate(signer_cert),
    )
    async with Network(services) as network:
        await check_signer_certificate(signer, trust, network)
    pdf_signer = PdfSigner(meta, signer, stamp_style=stamp_style())
    writer = IncrementalPdfFileWriter.from_reader(reader)
    output = io.BytesIO()
    tsa_url = None
    if level.timestamped:  # the TSA is only called at completion; size for it now
        tsa_url = (services.tsa_url if services is not None else None) or ""
    prepared, _tbs, _ = await pdf_signer.async_digest_doc_for_signing(
        writer,
        existing_fields_only=True,
        bytes_reserved=reserved_size(signer, tsa_url=tsa_url),
        appearance_text_params={"body": text},
        output=output,
    )
    signed_attrs = await signer.signed_attrs(
        prepared.document_digest,
        MD_ALGORITHM,
        attr_settings=PdfCMSSignedAttributes(),
        use_pades=True,
    )
    data_to_sign = signed_attrs.dump()
    header = {
        "field_name": field_name,
        "level": level.value,
        "mechanism": mechanism,
        "document_digest": _b64(prepared.document_digest),
        "region": [prepared.reserved_region_start, prepared.reserved_region_end],
        "signed_attrs": _b64(data_to_sign),
        "certificate": _b64(signer_cert.dump()),
        "chain": [_b64(c.dump()) for c in chain],
    }
    return PreparedSignature(
        state=_encode_state(header, output.getvalue(), state_key),
        digest_to_sign=hashlib.sha256(data_to_sign).digest(),
        data_to_sign=data_to_sign,
        digest_algorithm=MD_ALGORITHM,
        signature_mechanism=mechanism,
        signature_algorithm_oid=oid,
        field_name=field_name,
        level=level,
    )


def prepare_external_signature(
    pdf: bytes,
    *,
    field_name: str,
    signer_cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    profile: SignerProfile,
    trust: TrustSettings,
    level: PadesLevel = PadesLevel.B_LTA,
    services: ServiceUrls | None = None,
    document_id: str | None = None,
    state_key: bytes | None = None,
) -> PreparedSignature:
    """Step 1: freeze the document and compute what the external signer must sign.

    Checks everything :func:`~signatures.signing.sign_pdf` checks before signing (field,
    order, certificate; revocation too when ``services`` are given).

    :param signer_cert: the signatory's certificate (from the card or the CSC service).
    :param chain: its issuers, to embed (intermediates, optionally the root).
    :param level: what :func:`complete_external_signature` will produce.
    :param state_key: a server secret; if given, the state is authenticated with
        HMAC-SHA256 and :func:`complete_external_signature` needs the same key.
    :raises FieldProblem, CertificateProblem, RevocationUnavailable, UnreadablePdf:
        as for ``sign_pdf`` (B-B is refused in a document with several signatories).
    """
    return run_sync(
        async_prepare_external_signature(
            pdf,
            field_name=field_name,
            signer_cert=signer_cert,
            chain=chain,
            profile=profile,
            trust=trust,
            level=level,
            services=services,
            document_id=document_id,
            state_key=state_key,
        )
    )


async def async_complete_external_signature(
    state: bytes,
    signature_value: bytes,
    *,
    trust: TrustSettings,
    services: ServiceUrls | None = None,
    state_key: bytes | None = None,
) -> bytes:
    """Asynchronous :func:`complete_external_signature`."""
    from pyhanko.sign.signers import ExternalSigner
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    header, pdf = _decode_state(state, state_key)
    try:
        level = PadesLevel(header["level"])
        cert = x509.Certificate.load(base64.b64decode(header["certificate"]))
        chain = [x509.Certificate.load(base64.b64decode(c)) for c in header["chain"]]
        signed_attrs_der = base64.b64decode(header["signed_attrs"])
        signed_attrs = cms.CMSAttributes.load(signed_attrs_der)
        digest = base64.b64decode(header["document_digest"])
        start, end = (int(v) for v in header["region"])
        mechanism = str(header["mechanism"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ExternalSignatureProblem("corrupt prepared-signature state") from exc
    if not 0 < start < end <= len(pdf):
        raise ExternalSignatureProblem("corrupt prepared-signature state (region)")
    actual = hashlib.sha256(pdf[:start] + pdf[end:]).digest()
    if actual != digest:
        raise ExternalSignatureProblem("corrupt prepared-signature state (document digest)")
    _check_signed_attributes(signed_attrs, cert, actual)
    value = check_signature_value(cert, signed_attrs_der, signature_value)
    if level.timestamped and (services is None or not services.tsa_url):
        from .errors import TimestampUnavailable

        raise TimestampUnavailable(f"{level.value} needs a TSA: pass services=ServiceUrls(...)")

    signer = ExternalSigner(
        cert,
        SimpleCertificateStore.from_certs([cert, *chain]),
        signature_value=value,
        signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mechanism}),
    )
    async with Network(services) as network:
        # The certificate again, as before signing: it may have been revoked or have
        # expired since the preparation, or the state may name an untrusted one.
        await check_signer_certificate(signer, trust, network)
        try:
            signed_cms = await signer.async_sign_prescribed_attributes(
                MD_ALGORITHM,
                signed_attrs,
                timestamper=network.timestamper() if level.timestamped else None,
            )
        except SignatureError:
            raise
        except Exception as exc:
            found = find_cause(exc, SignatureError)
            if found is not None:
                raise found from exc
            raise
        output = io.BytesIO(pdf)
        try:
            PreparedByteRangeDigest(digest, start, end).fill_with_cms(output, signed_cms)
        except Exception as exc:  # pyHanko refuses a container larger than the placeholder
            raise ExternalSignatureProblem(f"cannot embed the signature: {exc}") from exc
        signed = output.getvalue()
        if level.long_term:
            signed = await add_long_term_data(
                signed,
                trust=trust,
                network=network,
                archive_timestamp=level is PadesLevel.B_LTA,
                md_algorithm=MD_ALGORITHM,
            )
    return signed


def complete_external_signature(
    state: bytes,
    signature_value: bytes,
    *,
    trust: TrustSettings,
    services: ServiceUrls | None = None,
    state_key: bytes | None = None,
) -> bytes:
    """Step 2: embed the externally computed value; timestamp and add LTV data per level.

    :param state: :attr:`PreparedSignature.state`, as stored.
    :param signature_value: the signer's answer for ``digest_to_sign`` (RSA PKCS#1 v1.5;
        ECDSA as DER or as raw ``r||s``).
    :param trust: roots the certificate must chain to (checked again, revocation
        included) and for collecting validation data (B-LT, B-LTA).
    :param services: the TSA (B-T and above).
    :param state_key: the key given to :func:`prepare_external_signature`, if any.
    :raises ExternalSignatureProblem: corrupt or altered state (HMAC, document digest,
        signed attributes not matching the document or the certificate), or a value
        that does not verify.
    :raises CertificateProblem: the certificate is now expired, revoked or untrusted.
    :raises TimestampUnavailable, RevocationUnavailable: the services failed; the same
        state and value can be completed again later.
    """
    return run_sync(
        async_complete_external_signature(
            state, signature_value, trust=trust, services=services, state_key=state_key
        )
    )
