"""The public check of a PDF: anyone uploads one and learns whether its signatures are valid
and whether it is a document of the archive — by its sha256 only, so the answer reveals
nothing of the archive beyond "this very file was archived on that day".

Validation costs tens of milliseconds of CPU for a PDF anyone may send, so the check is
throttled per client address with the database throttle of the login (it holds across app
servers): ``CHECKS_PER_WINDOW`` checks per ``WINDOW``, then a pause of ``PAUSE``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from signatures import ValidationReport
from workflow.errors import ErrorCode, TooManyAttempts
from workflow.identity import throttle
from workflow.models import ArchiveRecord, Document
from workflow.runtime import Runtime
from workflow.signing.verification import verify_pdf

CHECKS_PER_WINDOW: Final = 30
WINDOW: Final = timedelta(minutes=10)
PAUSE: Final = timedelta(minutes=10)
_POLICY: Final = throttle.ThrottlePolicy(
    max_failures=CHECKS_PER_WINDOW,
    max_failures_per_client=CHECKS_PER_WINDOW,
    window=WINDOW,
    lockout=PAUSE,
)


@dataclass(frozen=True)
class ArchiveMatch:
    """What the public may learn of an archived document the file matches."""

    archived_on: date
    as_archived: bool
    """True: the file is byte for byte the one archived. False: it is the document's later
    state (an archive timestamp renewed since)."""


@dataclass(frozen=True)
class PublicCheck:
    sha256: str
    size: int
    report: ValidationReport
    match: ArchiveMatch | None


def check_pdf(rt: Runtime, pdf: bytes, *, client: str | None) -> PublicCheck:
    """Validate ``pdf`` against the installation's trust and look its sha256 up in the
    archive. ``TooManyAttempts`` when ``client`` checked too often; ``InvalidInput("file")``
    for bytes that are not a readable PDF or too large."""
    _count_check(rt, client)
    report = verify_pdf(rt, pdf)
    sha256 = hashlib.sha256(pdf).hexdigest()
    with rt.read_sessions() as session:
        match = archive_match(session, sha256)
    return PublicCheck(sha256=sha256, size=len(pdf), report=report, match=match)


def archive_match(session: Session, sha256: str) -> ArchiveMatch | None:
    """The archived record whose file, or whose document's current PDF, has ``sha256``;
    disposed records no longer count."""
    row = session.execute(
        select(ArchiveRecord.archived_at, ArchiveRecord.pdf_sha256)
        .outerjoin(Document, Document.id == ArchiveRecord.document_id)
        .where(
            ArchiveRecord.disposed_at.is_(None),
            or_(ArchiveRecord.pdf_sha256 == sha256, Document.current_pdf_sha256 == sha256),
        )
        .order_by(ArchiveRecord.archived_at)
        .limit(1)
    ).first()
    if row is None:
        return None
    archived_at: datetime = row.archived_at
    return ArchiveMatch(archived_on=archived_at.date(), as_archived=row.pdf_sha256 == sha256)


def _count_check(rt: Runtime, client: str | None) -> None:
    if not client:
        return
    key = throttle.ThrottleKey("verify", "verify:" + _digest(client), CHECKS_PER_WINDOW)
    now = datetime.now(UTC)
    with rt.sessions.begin() as session:
        until = throttle.locked_until(session, [key], now=now)
        if until is None:
            throttle.record_failure(session, [key], now=now, policy=_POLICY)
    if until is not None:
        retry = max(1, math.ceil((until - now).total_seconds()))
        raise TooManyAttempts(ErrorCode.VERIFY_RATE_LIMITED, retry_after_s=retry)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
