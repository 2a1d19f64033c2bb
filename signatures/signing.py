"""``sign_pdf``: one signatory signs their field, up to PAdES B-LTA.

The document must have been frozen with :func:`~signatures.fields.prepare_for_signing`
(or otherwise carry an empty signature field). Everything that can be checked is checked
before the key is used: the field (exists, empty, in order, document not locked), the
signer's certificate (trusted, valid, not revoked) and, for B-T and above, that a TSA is
configured. A failure at any point raises; a half-signed PDF is never returned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ._cms import (
    MD_ALGORITHM,
    check_level_for_signatories,
    check_signature_value,
    reserved_size,
    run_sync,
    signature_metadata,
)
from .errors import ExternalSignatureProblem, KeyAccessError, SignatureError, TimestampUnavailable
from .fields import check_can_sign, document_identifier, read_pdf
from .ltv import Network, add_long_term_data, check_signer_certificate, find_cause
from .profiles import PadesLevel, ServiceUrls, SignerProfile, TrustSettings
from .stamp import is_demo_certificate, stamp_style, stamp_text

if TYPE_CHECKING:
    from asn1crypto import cms, x509

    from .keys import KeySource

__all__ = ["async_sign_pdf", "sign_pdf"]


def _newest_signer_info(signed: bytes, start: int) -> cms.SignerInfo:
    """The signer info of the signature written after offset ``start`` of ``signed``."""
    from asn1crypto import cms

    position = signed.find(b"/Contents <", start)
    while position != -1:
        begin = position + len(b"/Contents <")
        end = signed.find(b">", begin)
        try:
            info = cms.ContentInfo.load(bytes.fromhex(signed[begin:end].decode("ascii")))
            if info["content_type"].native == "signed_data":
                signer_info: cms.SignerInfo = info["content"]["signer_infos"][0]
                return signer_info
        except (ValueError, TypeError, KeyError, IndexError):
            pass
        position = signed.find(b"/Contents <", end)
    raise SignatureError("the new signature cannot be found in the signed PDF")


def verify_signature_value(signer_info: cms.SignerInfo, cert: x509.Certificate) -> None:
    """Check the signature value over the signed attributes with the certificate's key.

    :raises KeyAccessError: the value does not verify: the key does not match the
        certificate (a PKCS#11 EC key or a remote credential paired with another one).
    """
    raw = signer_info["signed_attrs"].dump()
    data = b"\x31" + raw[1:]  # DER of the SET OF, as signed (not the [0] IMPLICIT tag)
    try:
        check_signature_value(
            cert,
            data,
            signer_info["signature"].native,
            algorithm=signer_info["signature_algorithm"],
            digest=signer_info["digest_algorithm"]["algorithm"].native,
        )
    except ExternalSignatureProblem as exc:
        raise KeyAccessError(
            "the key does not match the certificate: the signature value does not verify "
            "with its public key; nothing was signed"
        ) from exc


async def async_sign_pdf(
    pdf: bytes,
    *,
    key: KeySource,
    field_name: str,
    profile: SignerProfile,
    trust: TrustSettings,
    level: PadesLevel = PadesLevel.B_LTA,
    services: ServiceUrls | None = None,
    document_id: str | None = None,
) -> bytes:
    """Asynchronous :func:`sign_pdf`."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers import PdfSigner

    reader = read_pdf(pdf)
    check_can_sign(reader, field_name)
    check_level_for_signatories(reader, field_name, level)
    if level.timestamped and (services is None or not services.tsa_url):
        raise TimestampUnavailable(f"{level.value} needs a TSA: pass services=ServiceUrls(...)")
    signer = key.signer()
    meta = signature_metadata(reader, field_name=field_name, profile=profile)
    text = stamp_text(
        profile,
        signed_at=datetime.now(UTC),
        document_id=document_id or document_identifier(reader),
        demo=is_demo_certificate(signer.signing_cert),
    )
    async with Network(services) as network:
        await check_signer_certificate(signer, trust, network)
        timestamper = network.timestamper() if level.timestamped else None
        pdf_signer = PdfSigner(meta, signer, timestamper=timestamper, stamp_style=stamp_style())
        tsa_url = services.tsa_url if services is not None and level.timestamped else None
        reserve: int | None = reserved_size(signer, tsa_url=tsa_url)
        while True:
            # Reuse the reader that did the checks (its parsed objects are cached); a
            # retry starts from a fresh one, since signing edits the cached objects.
            writer = IncrementalPdfFileWriter.from_reader(reader)
            try:
                output = await pdf_signer.async_sign_pdf(
                    writer,
                    existing_fields_only=True,
                    bytes_reserved=reserve,
                    appearance_text_params={"body": text},
                )
                break
            except SignatureError:
                raise
            except SigningError as exc:
                found = find_cause(exc, SignatureError)
                if found is not None:
                    raise found from exc
                if reserve is not None and "larger than expected" in str(exc):
                    reserve = None  # our estimate was too small: let pyHanko measure
                    reader = read_pdf(pdf)
                    continue
                raise SignatureError(f"signing failed: {exc}") from exc
            except Exception as exc:
                found = find_cause(exc, SignatureError)
                if found is not None:
                    raise found from exc
                raise
        signed: bytes = output.getvalue()
        if signer.signing_cert is not None:  # check_signer_certificate refused None
            verify_signature_value(_newest_signer_info(signed, len(pdf)), signer.signing_cert)
        if level.long_term:
            signed = await add_long_term_data(
                signed,
                trust=trust,
                network=network,
                archive_timestamp=level is PadesLevel.B_LTA,
                md_algorithm=MD_ALGORITHM,
            )
    return signed


def sign_pdf(
    pdf: bytes,
    *,
    key: KeySource,
    field_name: str,
    profile: SignerProfile,
    trust: TrustSettings,
    level: PadesLevel = PadesLevel.B_LTA,
    services: ServiceUrls | None = None,
    document_id: str | None = None,
) -> bytes:
    """Sign ``field_name`` of ``pdf`` with ``key``; return the new PDF (incremental update).

    :param key: where the key lives (:class:`~signatures.keys.Pkcs12Key`, PKCS#11, CSC);
        kept loaded by the caller across calls.
    :param field_name: an empty signature field, normally created by
        :func:`~signatures.fields.prepare_for_signing`; the first signature certifies the
        document, the last one locks it.
    :param profile: who signs: name and function for the visible stamp, reason, location.
    :param trust: roots the signer's certificate must chain to (checked before signing).
    :param level: PAdES baseline level; B-T and above need ``services``.
    :param services: TSA URL and timeouts; OCSP/CRL URLs come from the certificates.
        Revocation is checked before signing even without services (B-B), with a
        10-second timeout per OCSP/CRL request.
    :param document_id: text for the stamp's "Identyfikator dokumentu" line; default: from
        the PDF's permanent file identifier (:func:`~signatures.fields.document_identifier`).
    :raises UnreadablePdf: ``pdf`` is not a readable PDF.
    :raises FieldProblem: no such field, already signed, out of order, document locked;
        B-B in a document with several signature fields.
    :raises KeyAccessError: the key cannot be used, or its signature value does not
        verify with the certificate (the produced PDF is discarded).
    :raises CertificateProblem: the certificate is expired, revoked or untrusted.
    :raises TimestampUnavailable: no TSA configured, or it failed.
    :raises RevocationUnavailable: OCSP/CRL could not be obtained.
    """
    return run_sync(
        async_sign_pdf(
            pdf,
            key=key,
            field_name=field_name,
            profile=profile,
            trust=trust,
            level=level,
            services=services,
            document_id=document_id,
        )
    )
