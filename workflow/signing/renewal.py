"""Keep signed documents verifiable: renew archive timestamps before their TSA certificate
expires.

A B-LTA document stays verifiable offline only while its newest document timestamp can be
trusted, i.e. until the TSA certificate behind it expires. ``renew_due_timestamps`` finds
every signed or archived document whose newest timestamp expires within the margin and
adds a fresh document timestamp over it (an incremental update: the signed bytes stay a
prefix). Run it regularly (``estrategia timestamps renew`` from cron or a systemd timer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from signatures import (
    ArchiveRenewalPointless,
    archive_timestamp_expiry,
    renew_archive_timestamp,
)
from workflow import audit
from workflow.db import transaction
from workflow.documents.rendition import PDF_MEDIA_TYPE
from workflow.errors import ConflictingChange, ErrorCode
from workflow.models import Document
from workflow.runtime import Runtime
from workflow.states import Status
from workflow.storage.blobs import store_file

DEFAULT_MARGIN = timedelta(days=365)


@dataclass(frozen=True)
class Blocked:
    """A document due for renewal that could not be renewed, and why."""

    document_id: int
    reference: str
    expires_at: datetime
    reason: str


@dataclass(frozen=True)
class Renewal:
    document_id: int
    reference: str
    expired_at: datetime
    """When the previous newest timestamp would have stopped proving anything."""
    now_expires_at: datetime
    pdf_sha256: str


def renew_due_timestamps(
    rt: Runtime, *, margin: timedelta = DEFAULT_MARGIN, now: datetime | None = None
) -> tuple[list[Renewal], list[Blocked]]:
    """Renew every signed or archived document whose archive timestamp expires within
    ``margin``. Returns what was renewed and what could not be: a renewal whose new
    timestamp would expire no later than the old one (the TSA's own certificate is due)
    is pointless and reported for the operator instead. A TSA that does not answer
    raises and leaves the remaining documents for the next run."""
    now = now or datetime.now(UTC)
    with transaction(rt.read_sessions) as session:
        candidates = session.execute(
            select(Document.id, Document.reference, Document.current_pdf_sha256).where(
                Document.status.in_([Status.SIGNED, Status.ARCHIVED]),
                Document.current_pdf_sha256.is_not(None),
            )
        ).all()
    renewed: list[Renewal] = []
    blocked: list[Blocked] = []
    for document_id, reference, sha in candidates:
        if sha is None:  # excluded by the query; narrows the type
            continue
        pdf = rt.blobs.get(sha)
        expires = archive_timestamp_expiry(pdf)
        if expires - now > margin:
            continue
        env = rt.signing
        assert env.services is not None  # noqa: S101  # signing at B-T and above needs a TSA
        try:
            fresh = renew_archive_timestamp(pdf, services=env.services, trust=env.trust)
        except ArchiveRenewalPointless as exc:
            blocked.append(Blocked(document_id, reference or "", expires, str(exc)))
            continue
        renewed.append(_store(rt, document_id, reference or "", sha, fresh, expires))
    return renewed, blocked


def _store(
    rt: Runtime, document_id: int, reference: str, old_sha: str, pdf: bytes, expired: datetime
) -> Renewal:
    with transaction(rt.sessions) as session:
        doc = session.get(Document, document_id)
        if doc is None or doc.current_pdf_sha256 != old_sha:
            raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=reference)
        sha = store_file(session, rt.blobs, pdf, PDF_MEDIA_TYPE)
        doc.current_pdf_sha256 = sha
        doc.lock_version += 1
        doc.updated_at = datetime.now(UTC)
        new_expiry = archive_timestamp_expiry(pdf)
        audit.append(
            session,
            action="document.timestamp_renewed",
            actor_id=None,
            actor="system",
            document_id=document_id,
            payload={
                "pdf_sha256_before": old_sha,
                "pdf_sha256_after": sha,
                "previous_expiry": expired.isoformat(),
                "new_expiry": new_expiry.isoformat(),
            },
        )
        return Renewal(document_id, reference, expired, new_expiry, sha)
