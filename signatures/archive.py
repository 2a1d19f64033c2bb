"""Keeping B-LTA documents valid for decades: renew the archive timestamp in time.

A document timestamp proves that everything before it (signatures, the DSS with their
validation data) existed at that time, but only as long as the TSA's certificate is valid.
The archive asks :func:`archive_timestamp_expiry` when that is, and before then calls
:func:`renew_archive_timestamp`, which adds the validation data for the newest timestamp
and a fresh document timestamp over it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING

from asn1crypto import cms, x509

from ._cms import MD_ALGORITHM, run_sync
from .errors import ArchiveRenewalPointless, SignatureError
from .fields import read_pdf
from .ltv import Network, add_long_term_data
from .profiles import ServiceUrls, TrustSettings

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

__all__ = ["archive_timestamp_expiry", "async_renew_archive_timestamp", "renew_archive_timestamp"]


def _self_signed(certs: list[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    return tuple(c for c in certs if c.self_signed in ("maybe", "yes"))


def _trust_from_document(pdf: bytes) -> TrustSettings:
    """Anchors for *collecting* data only: the roots and TSA certificates the file carries."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError

    reader = read_pdf(pdf)
    certs: list[x509.Certificate] = []
    tsa_certs: list[x509.Certificate] = []
    with contextlib.suppress(NoDSSFoundError):  # no DSS yet: nothing to add
        certs.extend(DocumentSecurityStore.read_dss(reader).load_certs())
    for emb in reader.embedded_signatures:
        info = extract_certificate_info(emb.signed_data)
        certs.extend([info.signer_cert, *info.other_certs])
        if emb.sig_object_type == "/DocTimeStamp":
            tsa_certs.append(info.signer_cert)
    return TrustSettings(
        trust_roots=_self_signed(certs), tsa_trust_roots=tuple(tsa_certs), other_certs=tuple(certs)
    )


async def async_renew_archive_timestamp(
    pdf: bytes, *, services: ServiceUrls, trust: TrustSettings | None = None
) -> bytes:
    """Asynchronous :func:`renew_archive_timestamp`."""
    reader = read_pdf(pdf)
    # Only a document timestamp can be "renewed"; B-T/B-LT documents gain their first one.
    current = _expiry(reader) if _document_timestamps(reader) else None
    async with Network(services) as network:
        renewed = await add_long_term_data(
            pdf,
            trust=trust or _trust_from_document(pdf),
            network=network,
            archive_timestamp=True,
            md_algorithm=MD_ALGORITHM,
            renewal=True,
        )
    if current is not None:
        new = _expiry(read_pdf(renewed))
        if new <= current:
            raise ArchiveRenewalPointless(
                f"the new archive timestamp would expire on {new.isoformat()}, no later than "
                f"the current one ({current.isoformat()}): the TSA's certificate must be "
                "renewed first (or use another TSA)"
            )
    return renewed


def renew_archive_timestamp(
    pdf: bytes, *, services: ServiceUrls, trust: TrustSettings | None = None
) -> bytes:
    """Add the newest timestamp's validation data and a fresh document timestamp.

    Works on B-LT documents too (upgrading them to B-LTA). Nothing already in the file
    changes; the result is an incremental update.

    :param services: the TSA (and network settings for OCSP/CRL fetching).
    :param trust: anchors used while collecting validation data; default: the roots and
        TSA certificates found in the document itself (collection is not judgement:
        :func:`~signatures.validation.validate_pdf` decides what to trust).
    :raises UnreadablePdf: not a PDF.
    :raises TimestampUnavailable: the TSA failed; the input is unchanged.
    :raises ArchiveRenewalPointless: the new timestamp would expire no later than the
        current archive timestamp (the TSA still uses the same certificate): the TSA's
        certificate must be renewed first.
    """
    return run_sync(async_renew_archive_timestamp(pdf, services=services, trust=trust))


def _document_timestamps(reader: PdfFileReader) -> list[EmbeddedPdfSignature]:
    return sorted(reader.embedded_timestamp_signatures, key=lambda emb: emb.signed_revision)


def _dss_certs(reader: PdfFileReader) -> list[x509.Certificate]:
    from .ades import read_dss_contents

    return list(read_dss_contents(reader).certs)


def _token_expiry(token: cms.ContentInfo, extra: list[x509.Certificate]) -> datetime:
    """The TSA certificate's end of validity, or its issuer's if that ends earlier."""
    from pyhanko.sign.general import extract_certificate_info

    info = extract_certificate_info(token)
    cert = info.signer_cert
    expiry: datetime = cert.not_valid_after
    candidates = [
        c
        for c in (*info.other_certs, *extra)
        if c.subject.dump() == cert.issuer.dump() and c.dump() != cert.dump()
    ]
    key_id = cert.authority_key_identifier
    if key_id is not None:
        candidates = [c for c in candidates if c.key_identifier in (None, key_id)]
    if candidates:
        issuer_expiry = max(c.not_valid_after for c in candidates)
        expiry = min(expiry, issuer_expiry)
    return expiry


def _expiry(reader: PdfFileReader) -> datetime:
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    extra = _dss_certs(reader)
    document_timestamps = _document_timestamps(reader)
    if document_timestamps:
        return _token_expiry(document_timestamps[-1].signed_data, extra)
    tokens = [
        token
        for emb in reader.embedded_regular_signatures
        for token in extract_tst_data_iter(emb.signer_info, signed=False)
    ]
    if not tokens:
        raise SignatureError("the document carries no timestamp")
    # Every signature's timestamp must stay provable: the first to expire decides.
    return min(_token_expiry(token, extra) for token in tokens)


def archive_timestamp_expiry(pdf: bytes) -> datetime:
    """When the newest timestamp stops proving anything: renew before this moment.

    That is the end of validity of the newest document timestamp's TSA certificate (or of
    its issuing CA, if that ends earlier and is in the timestamp or the DSS). For
    documents without a document timestamp, the earliest such moment over every
    signature's timestamp.

    :raises UnreadablePdf: not a PDF.
    :raises SignatureError: the document carries no timestamp at all.
    """
    return _expiry(read_pdf(pdf))
