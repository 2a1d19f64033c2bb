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

from asn1crypto import x509

from .errors import SignatureError
from .fields import read_pdf
from .ltv import Network, add_long_term_data
from .profiles import ServiceUrls, TrustSettings
from .signing import MD_ALGORITHM, run_sync

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
    read_pdf(pdf)
    async with Network(services) as network:
        return await add_long_term_data(
            pdf,
            trust=trust or _trust_from_document(pdf),
            network=network,
            archive_timestamp=True,
            md_algorithm=MD_ALGORITHM,
            renewal=True,
        )


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
    """
    return run_sync(async_renew_archive_timestamp(pdf, services=services, trust=trust))


def archive_timestamp_expiry(pdf: bytes) -> datetime:
    """When the newest timestamp stops proving anything: renew before this moment.

    That is the end of validity of the newest document timestamp's TSA certificate (or of
    its issuing CA, if that ends earlier and is in the file). For documents without a
    document timestamp, the newest signature timestamp counts.

    :raises UnreadablePdf: not a PDF.
    :raises SignatureError: the document carries no timestamp at all.
    """
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    reader = read_pdf(pdf)
    tokens = [emb.signed_data for emb in reader.embedded_timestamp_signatures]
    if not tokens:
        for emb in reader.embedded_regular_signatures:
            tokens.extend(extract_tst_data_iter(emb.signer_info, signed=False))
    if not tokens:
        raise SignatureError("the document carries no timestamp")
    info = extract_certificate_info(tokens[-1])
    expiry: datetime = info.signer_cert.not_valid_after
    issuers = {c.subject.dump(): c for c in info.other_certs}
    issuer = issuers.get(info.signer_cert.issuer.dump())
    if issuer is not None and issuer.not_valid_after < expiry:
        expiry = issuer.not_valid_after
    return expiry
