"""What a verifier needs years later, and validation as of another time.

``trust_for_document(pdf, trust)`` keeps, of an installation's trust settings, the anchors a
document's signatures and timestamps actually lead to: the signing roots that issued (or
are) one of the certificates it embeds, and the timestamp anchors (a TSA's own service
certificate, the EU trusted-list model) of the TSAs that stamped it. That is what an
evidence package carries, so that it can be validated from itself alone.

``validate_pdf_at(pdf, trust=..., when=...)`` validates as of ``when`` (past or future).
pyHanko's past-signature validation reads the real clock for its initial control time
(``pyhanko_certvalidator.ltv.ades_past``), so passing ``when`` alone can pass or fail
for the wrong reason; the clock is moved to ``when`` for the duration (freezegun, ticking
from ``when``). It changes the process's clock: for one-shot commands and tests, never
for a server handling other requests at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from asn1crypto import cms, x509

from .ades import read_dss_contents
from .fields import read_pdf
from .profiles import TrustSettings
from .report import ValidationReport
from .validation import validate_pdf

__all__ = ["embedded_certificates", "trust_for_document", "validate_pdf_at"]


def _cms_certs(signed: cms.SignedData) -> Iterator[x509.Certificate]:
    for choice in signed["certificates"] or ():
        if choice.name == "certificate":
            yield choice.chosen
    for info in signed["signer_infos"]:
        for attr in info["unsigned_attrs"] or ():
            if attr["type"].native != "signature_time_stamp_token":
                continue
            for token in attr["values"]:
                yield from _cms_certs(token["content"])


def embedded_certificates(pdf: bytes) -> tuple[x509.Certificate, ...]:
    """Every certificate a PDF embeds: in its signatures, their timestamp tokens, its
    document timestamps and its DSS.

    :raises UnreadablePdf: the bytes are not a readable PDF.
    """
    reader = read_pdf(pdf)
    found: dict[bytes, x509.Certificate] = {}
    for emb in reader.embedded_signatures:
        for cert in _cms_certs(emb.signed_data):
            found.setdefault(cert.dump(), cert)
    for cert in read_dss_contents(reader).certs:
        found.setdefault(cert.dump(), cert)
    return tuple(found.values())


def _needed(
    anchors: Iterable[x509.Certificate], embedded: tuple[x509.Certificate, ...]
) -> tuple[x509.Certificate, ...]:
    dumps = {c.dump() for c in embedded}
    issuers = {c.issuer.dump() for c in embedded}
    return tuple(a for a in anchors if a.dump() in dumps or a.subject.dump() in issuers)


def trust_for_document(pdf: bytes, trust: TrustSettings) -> TrustSettings:
    """The part of ``trust`` that ``pdf``'s signatures and timestamps lead to (see the
    module docstring); empty for a PDF that embeds no certificate."""
    embedded = embedded_certificates(pdf)
    return TrustSettings(
        trust_roots=_needed(trust.trust_roots, embedded),
        tsa_trust_roots=_needed(trust.tsa_trust_roots, embedded),
        other_certs=_needed(trust.other_certs, embedded),
    )


def validate_pdf_at(pdf: bytes, *, trust: TrustSettings, when: datetime) -> ValidationReport:
    """:func:`~signatures.validate_pdf` offline as of ``when``, the clock moved there."""
    from freezegun import freeze_time

    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    with freeze_time(when, tick=True):
        return validate_pdf(pdf, trust=trust, when=when)
