"""The archive over HTTP: archiving a signed document, the records, legal holds, disposals.

Only archivists and administrators of the owning office see a record (anyone else: 404,
or 403 for other people of that office); a record's PDF is served only while it matches
its sha256 (changed: 409, missing or disposed of: 404).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from workflow.archive import records, retention
from workflow.archive.archiving import archive_with_view
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.downloads import file_response
from workflow.web.schemas import DocumentOut, Incoming
from workflow.web.types import Count, DbId, Line, Text

router = APIRouter(tags=["archive"])


class PartyIn(Incoming):
    name: Line = Field(min_length=1, max_length=300)
    teryt: Line | None = Field(default=None, max_length=7)
    voivodeship: Line | None = Field(default=None, max_length=64)
    organisation_id: DbId | None = None


class ArchiveIn(Incoming):
    """What the archivist overrides of the defaults (every field optional)."""

    kind: Line | None = Field(default=None, max_length=64)
    title: Line | None = Field(default=None, max_length=300)
    jrwa_symbol: Line | None = Field(default=None, max_length=16)
    category: Line | None = Field(default=None, max_length=2)
    retention_years: int | None = Field(default=None, ge=1, le=200)
    case_closed_on: date | None = None
    parties: list[PartyIn] | None = Field(default=None, max_length=50)
    legal_hold: bool | None = None
    legal_hold_reason: Text | None = Field(default=None, max_length=500)
    seen_lock_version: Count | None = None


class ArchivedOut(DocumentOut):
    archive_record_id: int


class HoldIn(Incoming):
    reason: Text = Field(min_length=1, max_length=500)


class DisposalIn(Incoming):
    reason: Text = Field(min_length=1, max_length=2000)
    state_archive_consent: Line | None = Field(default=None, max_length=200)


@router.post(
    "/documents/{document_id}/archive",
    response_model=ArchivedOut,
    status_code=status.HTTP_201_CREATED,
)
def archive(
    document_id: DbId, actor: CurrentActor, rt: RuntimeDep, body: ArchiveIn | None = None
) -> ArchivedOut:
    """Archive a signed document (the ``archive`` action with its record); the body
    overrides the default metadata (e-Izba's scheme for the kind, the signing date)."""
    given = (body or ArchiveIn()).model_dump(exclude_unset=True, mode="json")
    seen = given.pop("seen_lock_version", None)
    done = archive_with_view(
        rt, actor=actor, document_id=document_id, meta_overrides=given or None,
        seen_lock_version=seen,
    )  # fmt: skip
    out = DocumentOut.of(done.document).model_dump()
    return ArchivedOut(**out, archive_record_id=done.record_id)


@router.get("/archive")
def list_archive(
    actor: CurrentActor,
    rt: RuntimeDep,
    due: bool = Query(default=False, description="only records due for disposal today"),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> list[dict[str, Any]]:
    today = retention.today() if due else None
    return records.list_records(rt, actor=actor, due_on=today, limit=limit, offset=offset)


@router.get("/archive/{record_id}")
def get_record(record_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> dict[str, Any]:
    return records.get_record(rt, actor=actor, record_id=record_id)


@router.get(
    "/archive/{record_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def record_pdf(record_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> Response:
    """The archived PDF, checked against its sha256 before it is sent."""
    content, name = records.record_file(rt, actor=actor, record_id=record_id)
    return file_response(content, name, "application/pdf")


@router.post("/archive/{record_id}/hold")
def hold(record_id: DbId, body: HoldIn, actor: CurrentActor, rt: RuntimeDep) -> dict[str, Any]:
    return records.set_legal_hold(rt, actor=actor, record_id=record_id, reason=body.reason)


@router.post("/archive/{record_id}/release")
def release(record_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> dict[str, Any]:
    return records.release_legal_hold(rt, actor=actor, record_id=record_id)


@router.get("/archive/{record_id}/disposals")
def disposals(record_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> list[dict[str, Any]]:
    return retention.list_disposals(rt, actor=actor, record_id=record_id)


@router.post("/archive/{record_id}/disposals", status_code=status.HTTP_201_CREATED)
def propose_disposal(
    record_id: DbId, body: DisposalIn, actor: CurrentActor, rt: RuntimeDep
) -> dict[str, Any]:
    return retention.propose(
        rt, actor=actor, record_id=record_id, reason=body.reason,
        consent=body.state_archive_consent,
    )  # fmt: skip


@router.post("/archive/disposals/{disposal_id}/approve")
def approve_disposal(disposal_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> dict[str, Any]:
    return retention.approve(rt, actor=actor, disposal_id=disposal_id)


@router.post("/archive/disposals/{disposal_id}/reject")
def reject_disposal(disposal_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> dict[str, Any]:
    return retention.reject(rt, actor=actor, disposal_id=disposal_id)


@router.post("/archive/disposals/{disposal_id}/execute")
def execute_disposal(disposal_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> dict[str, Any]:
    """Dispose of the record: marked disposed, its PDF removed; the row stays."""
    return retention.execute(rt, actor=actor, disposal_id=disposal_id)
