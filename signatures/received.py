"""A PDF signed elsewhere: what an update added to the PDF it started from, and raising
its level on arrival.

An official downloads the PDF awaiting their signature, signs it in any PAdES tool and
sends the result back. :func:`inspect_update` says what the tool added (the new
signatures, the new document timestamps, and pyHanko's modification analysis of every
added revision against the last revision of the base), without judging it: the caller
decides what is acceptable. :func:`raise_level` then adds the validation data (B-LT) and a
document timestamp (B-LTA) that the tool did not, as one more incremental update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._cms import MD_ALGORITHM, run_sync
from .errors import UnreadablePdf
from .fields import read_pdf
from .ltv import Network, add_long_term_data
from .malformed import MALFORMED_PDF_ERRORS, describe
from .profiles import PadesLevel, ServiceUrls, TrustSettings

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = ["NewSignature", "UpdateInspection", "inspect_update", "raise_level"]


@dataclass(frozen=True)
class NewSignature:
    """A signature that the update added."""

    field_name: str
    """The field it fills."""

    revision: int
    """The revision it signs (0-based)."""


@dataclass(frozen=True)
class UpdateInspection:
    """What an incremental update added to its base; see :func:`inspect_update`."""

    base_revisions: int
    """Revisions of the base PDF."""

    revisions: int
    """Revisions of the updated PDF."""

    new_signatures: tuple[NewSignature, ...]
    """Signatures (not document timestamps) in revisions after the base, in order."""

    new_timestamps: tuple[str, ...]
    """Field names of document timestamps in revisions after the base."""

    modification_level: str | None
    """pyHanko's verdict on everything added after the base: ``NONE``, ``LTA_UPDATES``,
    ``FORM_FILLING``, ``ANNOTATIONS`` or ``OTHER``; ``None`` if the analysis found
    something it calls suspicious (treat as ``OTHER``)."""

    changed_fields: tuple[str, ...]
    """Form fields the added revisions changed (filling a signature field counts)."""

    problem: str | None = None
    """What the analysis found suspicious, if it did."""

    def changes_only(self, field_name: str) -> bool:
        """Whether the update did nothing but sign ``field_name`` (plus validation data and
        document timestamps): no page content, annotation or other field changed."""
        if self.modification_level not in ("NONE", "LTA_UPDATES", "FORM_FILLING"):
            return False
        return set(self.changed_fields) <= {field_name, *self.new_timestamps}


def _count_revisions(reader: PdfFileReader) -> int:
    return int(reader.xrefs.total_revisions)


def inspect_update(base: bytes, updated: bytes) -> UpdateInspection:
    """What ``updated`` added to ``base``, of which it must be an incremental update
    (``updated.startswith(base)``: the caller checks that first).

    :raises UnreadablePdf: either is not a readable PDF.
    :raises ValueError: ``updated`` does not start with ``base``.
    """
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel

    if not updated.startswith(base):
        raise ValueError("the updated PDF does not start with the base")
    base_revisions = _count_revisions(read_pdf(base))
    reader = read_pdf(updated)
    try:
        revisions = _count_revisions(reader)
        signatures = [
            NewSignature(emb.field_name, emb.signed_revision)
            for emb in reader.embedded_regular_signatures
            if emb.signed_revision >= base_revisions
        ]
        timestamps = [
            emb.field_name
            for emb in reader.embedded_timestamp_signatures
            if emb.signed_revision >= base_revisions
        ]
        if revisions <= base_revisions:
            return UpdateInspection(
                base_revisions, revisions, (), (), ModificationLevel.NONE.name, ()
            )
        result = DEFAULT_DIFF_POLICY.review_file(reader, base_revisions - 1)
    except MALFORMED_PDF_ERRORS as exc:
        raise UnreadablePdf(f"cannot read the update: {describe(exc)}") from exc
    level = getattr(result, "modification_level", None)
    if level is None:  # a SuspiciousModification
        return UpdateInspection(
            base_revisions, revisions, tuple(signatures), tuple(timestamps), None, (),
            problem=describe(getattr(result, "exc", result)),  # type: ignore[arg-type]
        )  # fmt: skip
    return UpdateInspection(
        base_revisions,
        revisions,
        tuple(signatures),
        tuple(timestamps),
        level.name,
        tuple(sorted(result.changed_form_fields)),  # type: ignore[union-attr]
    )


async def async_raise_level(
    pdf: bytes, *, level: PadesLevel, trust: TrustSettings, services: ServiceUrls
) -> bytes:
    """Asynchronous :func:`raise_level`."""
    async with Network(services) as network:
        return await add_long_term_data(
            pdf,
            trust=trust,
            network=network,
            archive_timestamp=level is PadesLevel.B_LTA,
            md_algorithm=MD_ALGORITHM,
        )


def raise_level(
    pdf: bytes, *, level: PadesLevel, trust: TrustSettings, services: ServiceUrls
) -> bytes:
    """Bring the newest signature of ``pdf`` up to ``level`` (B-LT or B-LTA): its
    validation data in the DSS and, for B-LTA, a document timestamp over it, as one
    incremental update. Below B-LT, ``pdf`` is returned unchanged.

    :raises RevocationUnavailable: no OCSP/CRL for the newest signer.
    :raises CertificateProblem: the newest signer's certificate is revoked.
    :raises TimestampUnavailable: the document timestamp could not be obtained.
    """
    if not level.long_term:
        return pdf
    return run_sync(async_raise_level(pdf, level=level, trust=trust, services=services))
