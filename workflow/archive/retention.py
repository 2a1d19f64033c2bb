"""Retention and disposal: what is due, and the four steps of a disposal.

Due on a day: the retention end has come (``retention_ends_on <= day``), not category A,
not under legal hold, not disposed already.

A disposal is proposed (with a reason; for BE with the state archive's consent reference),
approved or rejected by *another* archivist or administrator, then executed: the record
is marked disposed, its PDF removed from the store (and an imported record's search
entry; an archived workflow document stays findable as a document); the row, its disposal (who
proposed, approved and executed, when, the sha256 and title) and the audit records stay.
Every step re-checks the rules, since a legal hold may come at any time; a held or
category-A record is refused at each step, and the database refuses to mark one disposed
(migration 0009), whatever the code path.

The file goes after the commit (as files come: ``storage.blobs``); a crash in between
leaves a disposed record whose file is still there, which ``archive verify`` removes
(``finish_disposals``). With the database blob store the bytes go in the transaction.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.archive.records import load_record
from workflow.db import on_commit, transaction
from workflow.errors import ErrorCode, GuardRefused, InvalidInput, NotFound, NotPermitted
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord, BlobContent, Disposal
from workflow.runtime import Runtime
from workflow.search.index import delete_entry
from workflow.storage.blobs import FileBlobStore
from workflow.storage.database import DatabaseBlobStore

WARSAW = ZoneInfo("Europe/Warsaw")
_OPEN = ("proposed", "approved")
_REASON_LIMIT = 2000
_CONSENT_LIMIT = 200


def due_condition(day: date) -> ColumnElement[bool]:
    return and_(
        ArchiveRecord.retention_ends_on.is_not(None),
        ArchiveRecord.retention_ends_on <= day,
        ArchiveRecord.category != "A",
        ArchiveRecord.legal_hold.is_(False),
        ArchiveRecord.disposed_at.is_(None),
    )


def check_disposable(record: ArchiveRecord, today: date) -> None:
    """Refuse a record that may not be disposed of now, with the rule it breaks."""
    if record.disposed_at is not None:
        raise NotFound(ErrorCode.ARCHIVE_RECORD_DISPOSED, record_id=record.id)
    if record.category == "A":
        raise GuardRefused(ErrorCode.DISPOSAL_CATEGORY_A, record_id=record.id)
    if record.legal_hold:
        raise GuardRefused(
            ErrorCode.DISPOSAL_UNDER_HOLD, record_id=record.id, reason=record.legal_hold_reason
        )
    if record.retention_ends_on is None or record.retention_ends_on > today:
        raise GuardRefused(
            ErrorCode.DISPOSAL_NOT_DUE, record_id=record.id,
            retention_ends_on=str(record.retention_ends_on),
        )  # fmt: skip


def disposal_data(d: Disposal) -> dict[str, Any]:
    def iso(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    return {
        "id": d.id, "record_id": d.record_id, "state": d.state, "reason": d.reason,
        "state_archive_consent": d.state_archive_consent, "pdf_sha256": d.pdf_sha256,
        "title": d.title, "proposed_by_id": d.proposed_by_id, "proposed_at": iso(d.proposed_at),
        "approved_by_id": d.approved_by_id, "approved_at": iso(d.approved_at),
        "executed_by_id": d.executed_by_id, "executed_at": iso(d.executed_at),
    }  # fmt: skip


def propose(
    rt: Runtime, *, actor: Actor, record_id: int, reason: str, consent: str | None = None
) -> dict[str, Any]:
    reason = _text("reason", reason, _REASON_LIMIT, ErrorCode.DISPOSAL_REASON_REQUIRED)
    consent = (consent or "").strip() or None
    with transaction(rt.sessions) as session:
        record = load_record(session, actor, record_id)
        check_disposable(record, today())
        if record.category == "BE" and consent is None:
            raise InvalidInput(
                "state_archive_consent", ErrorCode.DISPOSAL_CONSENT_REQUIRED, record_id=record.id
            )
        if consent is not None and len(consent) > _CONSENT_LIMIT:
            raise InvalidInput(
                "state_archive_consent", ErrorCode.TEXT_TOO_LONG,
                length=len(consent), max_length=_CONSENT_LIMIT,
            )  # fmt: skip
        open_one = session.scalar(
            select(Disposal.id).where(Disposal.record_id == record.id, Disposal.state.in_(_OPEN))
        )
        if open_one is not None:
            raise GuardRefused(
                ErrorCode.DISPOSAL_ALREADY_PROPOSED, record_id=record.id, disposal_id=open_one
            )
        disposal = Disposal(
            record_id=record.id, state="proposed", reason=reason, state_archive_consent=consent,
            proposed_by_id=actor.user_id, proposed_at=datetime.now(UTC),
            pdf_sha256=record.pdf_sha256, title=record.title,
        )  # fmt: skip
        session.add(disposal)
        session.flush()
        _audit(session, actor, record, disposal, "archive.disposal_proposed")
        return disposal_data(disposal)


def approve(rt: Runtime, *, actor: Actor, disposal_id: int) -> dict[str, Any]:
    return _decide(rt, actor, disposal_id, approved=True)


def reject(rt: Runtime, *, actor: Actor, disposal_id: int) -> dict[str, Any]:
    return _decide(rt, actor, disposal_id, approved=False)


def _decide(rt: Runtime, actor: Actor, disposal_id: int, *, approved: bool) -> dict[str, Any]:
    with transaction(rt.sessions) as session:
        disposal, record = _load(session, actor, disposal_id, expected="proposed")
        if disposal.proposed_by_id == actor.user_id:
            raise NotPermitted(ErrorCode.DISPOSAL_SAME_PERSON)
        if approved:
            check_disposable(record, today())
        disposal.state = "approved" if approved else "rejected"
        disposal.approved_by_id, disposal.approved_at = actor.user_id, datetime.now(UTC)
        session.flush()
        action = "archive.disposal_approved" if approved else "archive.disposal_rejected"
        _audit(session, actor, record, disposal, action)
        return disposal_data(disposal)


def execute(rt: Runtime, *, actor: Actor, disposal_id: int) -> dict[str, Any]:
    """Dispose of the record of an approved disposal: marked disposed, its PDF removed."""
    with transaction(rt.sessions) as session:
        disposal, record = _load(session, actor, disposal_id, expected="approved")
        check_disposable(record, today())
        now = datetime.now(UTC)
        record.disposed_at = now
        disposal.state = "executed"
        disposal.executed_by_id, disposal.executed_at = actor.user_id, now
        session.flush()  # the triggers of migration 0009 check the record here too
        _remove_file(session, rt, record.pdf_sha256)
        if record.document_id is None:  # an import: nothing of it is left to find
            delete_entry(session, archive_record_id=record.id)
        _audit(session, actor, record, disposal, "archive.disposed")
        return disposal_data(disposal)


def list_disposals(rt: Runtime, *, actor: Actor, record_id: int) -> list[dict[str, Any]]:
    with transaction(rt.read_sessions) as session:
        load_record(session, actor, record_id)
        rows = session.scalars(
            select(Disposal).where(Disposal.record_id == record_id).order_by(Disposal.id)
        )
        return [disposal_data(d) for d in rows]


def _load(
    session: Session, actor: Actor, disposal_id: int, *, expected: str
) -> tuple[Disposal, ArchiveRecord]:
    disposal = session.get(Disposal, disposal_id)
    if disposal is None:
        raise NotFound(ErrorCode.DISPOSAL_NOT_FOUND, disposal_id=disposal_id)
    try:
        record = load_record(session, actor, disposal.record_id)
    except NotFound:
        raise NotFound(ErrorCode.DISPOSAL_NOT_FOUND, disposal_id=disposal_id) from None
    if disposal.state != expected:
        raise GuardRefused(
            ErrorCode.DISPOSAL_WRONG_STATE, disposal_id=disposal_id, state=disposal.state,
            expected=expected,
        )  # fmt: skip
    return disposal, record


def _audit(
    session: Session, actor: Actor, record: ArchiveRecord, disposal: Disposal, action: str
) -> None:
    audit.append(
        session, action=action, actor_id=actor.user_id, actor=actor.email,
        document_id=record.document_id,
        payload={
            "record_id": record.id, "disposal_id": disposal.id, "state": disposal.state,
            "pdf_sha256": disposal.pdf_sha256, "title": disposal.title,
            "category": record.category, "reason": disposal.reason,
            "state_archive_consent": disposal.state_archive_consent,
        },
    )  # fmt: skip


def _remove_file(session: Session, rt: Runtime, sha256: str) -> None:
    blobs = rt.blobs
    if isinstance(blobs, DatabaseBlobStore):
        session.execute(delete(BlobContent).where(BlobContent.sha256 == sha256))
    elif isinstance(blobs, FileBlobStore):
        files = blobs

        def remove() -> None:
            remove_stored_file(files, sha256)

        on_commit(session, remove)


def remove_stored_file(blobs: FileBlobStore, sha256: str) -> bool:
    """Unlink the file of ``sha256`` (final and pending names); whether anything went."""
    final = blobs.root / sha256[:2] / sha256[2:]
    removed = False
    for path in [final, *blobs.pending_files(sha256)]:
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            continue
    if removed:
        fd = os.open(final.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return removed


def finish_disposals(rt: Runtime) -> list[int]:
    """Remove the files disposed records still have (a crash came after the commit)."""
    blobs = rt.blobs
    with transaction(rt.read_sessions) as session:
        rows = session.execute(
            select(ArchiveRecord.id, ArchiveRecord.pdf_sha256).where(
                ArchiveRecord.disposed_at.is_not(None)
            )
        ).all()
    if isinstance(blobs, DatabaseBlobStore):
        return []
    if not isinstance(blobs, FileBlobStore):
        return []
    return [record_id for record_id, sha in rows if remove_stored_file(blobs, sha)]


def _text(field: str, value: str | None, limit: int, required: ErrorCode) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, required)
    if len(text) > limit:
        raise InvalidInput(field, ErrorCode.TEXT_TOO_LONG, length=len(text), max_length=limit)
    return text


def today() -> date:
    """Today in Poland: retention ends at the start of 1 January, Warsaw time."""
    return datetime.now(WARSAW).date()
