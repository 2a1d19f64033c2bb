"""Reading the archive and its legal holds: who may see a record, the record as plain data,
its file (checked: a file that fails its hash is never served), holds set and released.

Who: archivists and administrators of the record's owning office (or of an office above
it, as for documents). Anyone else who belongs to that office is refused (403); everyone
else learns nothing (404, as if the record did not exist).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow import audit
from workflow.db import transaction
from workflow.errors import ErrorCode, GuardRefused, InvalidInput, NotFound, NotPermitted
from workflow.identity.actors import Actor
from workflow.models import ArchiveParty, ArchiveRecord, ArchiveSignature
from workflow.runtime import Runtime
from workflow.states import Role
from workflow.storage.blobs import BlobCorrupted

ARCHIVE_ROLES = frozenset({Role.ARCHIVIST, Role.ADMIN})
_HOLD_REASON_LIMIT = 500


def archive_offices(actor: Actor) -> set[int]:
    """The offices whose archive ``actor`` keeps."""
    return {org for org, role in actor.roles_by_org if role in ARCHIVE_ROLES}


def load_record(session: Session, actor: Actor, record_id: int) -> ArchiveRecord:
    """The record if ``actor`` keeps its archive; NotFound / NotPermitted otherwise."""
    record = session.get(
        ArchiveRecord,
        record_id,
        options=(selectinload(ArchiveRecord.parties), selectinload(ArchiveRecord.signatures)),
    )
    if record is None or record.owner_organisation_id not in actor.member_of:
        raise NotFound(ErrorCode.ARCHIVE_RECORD_NOT_FOUND, record_id=record_id)
    if record.owner_organisation_id not in archive_offices(actor):
        raise NotPermitted(ErrorCode.ARCHIVE_NEEDS_ARCHIVIST)
    return record


def record_data(record: ArchiveRecord) -> dict[str, Any]:
    """The record as JSON-ready data (API, CLI)."""
    return {
        "id": record.id,
        "document_id": record.document_id,
        "source": record.source,
        "kind": record.kind,
        "title": record.title,
        "file_name": record.file_name,
        "pdf_sha256": record.pdf_sha256,
        "size": record.size,
        "signature_status": record.signature_status,
        "pades_level": record.pades_level,
        "jrwa_symbol": record.jrwa_symbol,
        "category": record.category,
        "retention_years": record.retention_years,
        "case_closed_on": record.case_closed_on.isoformat(),
        "retention_ends_on": _iso(record.retention_ends_on),
        "legal_hold": record.legal_hold,
        "legal_hold_reason": record.legal_hold_reason,
        "owner_organisation_id": record.owner_organisation_id,
        "archived_at": record.archived_at.isoformat(),
        "archived_by_id": record.archived_by_id,
        "audit_extract_sha256": record.audit_extract_sha256,
        "validation_report_sha256": record.validation_report_sha256,
        "text_status": record.text_status,
        "disposed_at": _iso(record.disposed_at),
        "parties": [_party(p) for p in record.parties],
        "signatures": [_signature(s) for s in record.signatures],
    }


def _party(p: ArchiveParty) -> dict[str, Any]:
    return {
        "name": p.name,
        "teryt": p.teryt,
        "voivodeship": p.voivodeship,
        "organisation_id": p.organisation_id,
    }


def _signature(s: ArchiveSignature) -> dict[str, Any]:
    return {
        "signer_name": s.signer_name,
        "signed_at": _iso(s.signed_at),
        "pades_level": s.pades_level,
    }


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def get_record(rt: Runtime, *, actor: Actor | None, record_id: int) -> dict[str, Any]:
    """The record as data; ``actor`` None: the installation's operator (the CLI)."""
    with transaction(rt.read_sessions) as session:
        if actor is not None:
            return record_data(load_record(session, actor, record_id))
        record = session.get(ArchiveRecord, record_id)
        if record is None:
            raise NotFound(ErrorCode.ARCHIVE_RECORD_NOT_FOUND, record_id=record_id)
        return record_data(record)


def list_records(
    rt: Runtime,
    *,
    actor: Actor | None,
    due_on: date | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The records ``actor`` keeps (None: all, for the operator), newest first;
    ``due_on``: only those due for disposal on that day (``retention.due_condition``)."""
    from workflow.archive.retention import due_condition

    query = (
        select(ArchiveRecord)
        .options(selectinload(ArchiveRecord.parties), selectinload(ArchiveRecord.signatures))
        .order_by(ArchiveRecord.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if actor is not None:
        query = query.where(ArchiveRecord.owner_organisation_id.in_(archive_offices(actor)))
    if due_on is not None:
        query = query.where(due_condition(due_on))
    with transaction(rt.read_sessions) as session:
        return [record_data(r) for r in session.scalars(query)]


def record_file(rt: Runtime, *, actor: Actor, record_id: int) -> tuple[bytes, str]:
    """The archived PDF and its file name, checked against its sha256: a file changed or
    removed is a clear error, never served."""
    with transaction(rt.read_sessions) as session:
        record = load_record(session, actor, record_id)
        sha, name, disposed = record.pdf_sha256, record.file_name, record.disposed_at
    if disposed is not None:
        raise NotFound(ErrorCode.ARCHIVE_RECORD_DISPOSED, record_id=record_id)
    return read_checked(rt, record_id, sha), name


def read_checked(rt: Runtime, record_id: int, sha256: str) -> bytes:
    try:
        return rt.blobs.get(sha256)
    except BlobCorrupted:
        raise GuardRefused(ErrorCode.ARCHIVE_FILE_DAMAGED, record_id=record_id) from None
    except FileNotFoundError:
        raise NotFound(ErrorCode.ARCHIVE_FILE_MISSING, record_id=record_id) from None


def set_legal_hold(rt: Runtime, *, actor: Actor, record_id: int, reason: str) -> dict[str, Any]:
    """Put the record under legal hold: no disposal until it is released."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason", ErrorCode.ARCHIVE_HOLD_REASON_REQUIRED)
    if len(reason) > _HOLD_REASON_LIMIT:
        raise InvalidInput(
            "reason", ErrorCode.TEXT_TOO_LONG, length=len(reason), max_length=_HOLD_REASON_LIMIT
        )
    return _hold(rt, actor, record_id, held=True, reason=reason)


def release_legal_hold(rt: Runtime, *, actor: Actor, record_id: int) -> dict[str, Any]:
    return _hold(rt, actor, record_id, held=False, reason=None)


def _hold(
    rt: Runtime, actor: Actor, record_id: int, *, held: bool, reason: str | None
) -> dict[str, Any]:
    with transaction(rt.sessions) as session:
        record = load_record(session, actor, record_id)
        if record.disposed_at is not None:
            raise NotFound(ErrorCode.ARCHIVE_RECORD_DISPOSED, record_id=record_id)
        record.legal_hold, record.legal_hold_reason = held, reason
        audit.append(
            session,
            action="archive.hold" if held else "archive.release",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=record.document_id,
            payload={"record_id": record.id, "reason": reason, "at": datetime.now(UTC)},
        )
        session.flush()
        return record_data(record)
