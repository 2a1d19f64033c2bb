"""The archive's pages for its archivists:

    GET  /archive                          the records kept (``?due=1``: due for disposal)
    GET  /archive/{id}                     a record: metadata, its file validated now,
                                           legal hold, disposals, downloads
    GET  /archive/{id}/file                the archived PDF (checked against its sha256)
    GET  /archive/{id}/evidence            the evidence package (ZIP)
    POST /archive/{id}/hold | /release     legal hold
    POST /archive/{id}/disposals           propose a disposal
    POST /archive/disposals/{id}/{approve|reject|execute}

Every route goes through the archive's use-cases (``archive.records``, ``retention``,
``evidence``, ``overview``) with the signed-in person: someone of another office gets the
404 page, someone of the office who keeps no archive the 403 page. Each POST carries the
session's CSRF token and ends in a redirect to the record (``?done=...``), or in the record
page again with the refusal beside the form it concerns. Its words: ``ui_archive.po``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException

from workflow.archive import records, retention
from workflow.archive.evidence import build_evidence
from workflow.archive.overview import record_overview
from workflow.errors import (
    ConflictingChange,
    EstrategiaError,
    GuardRefused,
    InvalidInput,
    NotPermitted,
)
from workflow.i18n import ui_text
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.web.deps import RuntimeDep
from workflow.web.pages.archive_search import VALUE_LABELS
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])

DONE: Final = {
    "hold": "The record is under legal hold: it cannot be disposed of until released.",
    "release": "The legal hold has been released.",
    "proposed": "The disposal has been proposed; another person must approve it.",
    "approved": "The disposal has been approved.",
    "rejected": "The disposal has been rejected.",
    "executed": "The record has been disposed of: its file is removed, the record stays.",
    "archived": "The document has been archived.",
    "imported": "The agreement has been imported into the archive.",
    "already": (
        "This file was already in the archive: this is its record; nothing was stored again."
    ),
}
"""msgids of ui_archive.po: the notice after each successful POST."""

REFUSALS = (InvalidInput, GuardRefused, ConflictingChange, NotPermitted)


@router.get("/archive")
def archive_list(request: Request, actor: PageActor, rt: RuntimeDep, due: int = 0) -> Response:
    due_on = datetime.now(UTC).date() if due else None
    kept = records.list_records(rt, actor=actor, due_on=due_on)
    return render_page(
        request, "archive/list.html", records=kept, due=bool(due),
        can_import=bool(records.archive_offices(actor)),
        kind_labels=VALUE_LABELS["kind"], category_labels=VALUE_LABELS["category"],
    )  # fmt: skip


def _record_page(
    request: Request,
    rt: Runtime,
    actor: Actor,
    record_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lang = page_language(request)
    overview = record_overview(rt, actor=actor, record_id=record_id)
    done = request.query_params.get("done", "")
    return render_page(
        request, "archive/record.html", status_code=status_code, o=overview, r=overview.record,
        errors=errors or {}, form=form or {}, file_problem=(
            overview.file_problem.message(lang) if overview.file_problem else None
        ),
        flash=ui_text(DONE[done], lang) if done in DONE else None, flash_kind="success",
        kind_labels=VALUE_LABELS["kind"], category_labels=VALUE_LABELS["category"],
        actor_id=actor.user_id, today=datetime.now(UTC).date().isoformat(),
    )  # fmt: skip


@router.get("/archive/{record_id}")
def record_page(request: Request, record_id: int, actor: PageActor, rt: RuntimeDep) -> Response:
    return _record_page(request, rt, actor, record_id)


@router.get("/archive/{record_id}/file")
def record_file(record_id: int, actor: PageActor, rt: RuntimeDep) -> Response:
    pdf, name = records.record_file(rt, actor=actor, record_id=record_id)
    return _download(pdf, "application/pdf", name)


@router.get("/archive/{record_id}/evidence")
def record_evidence(record_id: int, actor: PageActor, rt: RuntimeDep) -> Response:
    package = build_evidence(rt, actor=actor, record_id=record_id)
    return _download(package.data, "application/zip", package.file_name)


def _download(data: bytes, media_type: str, name: str) -> Response:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'},
    )


def _refused(
    request: Request,
    rt: Runtime,
    actor: Actor,
    record_id: int,
    exc: EstrategiaError,
    *,
    field: str,
    form: dict[str, str] | None = None,
) -> Response:
    lang = page_language(request)
    message = exc.message(lang)
    status = 409 if isinstance(exc, GuardRefused | ConflictingChange) else 422
    if isinstance(exc, NotPermitted):
        status = 403
    return _record_page(
        request, rt, actor, record_id, errors={field: message}, form=form, status_code=status
    )


def _to_record(record_id: int, done: str) -> Response:
    return RedirectResponse(f"/archive/{record_id}?done={done}", status_code=303)


@router.post("/archive/{record_id}/hold")
def hold(
    request: Request,
    record_id: int,
    actor: PageActor,
    rt: RuntimeDep,
    _: FormCsrfDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        records.set_legal_hold(rt, actor=actor, record_id=record_id, reason=reason)
    except REFUSALS as exc:
        return _refused(request, rt, actor, record_id, exc, field="hold", form={"reason": reason})
    return _to_record(record_id, "hold")


@router.post("/archive/{record_id}/release")
def release(
    request: Request, record_id: int, actor: PageActor, rt: RuntimeDep, _: FormCsrfDep
) -> Response:
    try:
        records.release_legal_hold(rt, actor=actor, record_id=record_id)
    except REFUSALS as exc:
        return _refused(request, rt, actor, record_id, exc, field="hold")
    return _to_record(record_id, "release")


@router.post("/archive/{record_id}/disposals")
def propose_disposal(
    request: Request,
    record_id: int,
    actor: PageActor,
    rt: RuntimeDep,
    _: FormCsrfDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
    state_archive_consent: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    form = {"disposal_reason": reason, "state_archive_consent": state_archive_consent}
    try:
        retention.propose(
            rt, actor=actor, record_id=record_id, reason=reason, consent=state_archive_consent
        )
    except REFUSALS as exc:
        return _refused(request, rt, actor, record_id, exc, field="dispose", form=form)
    return _to_record(record_id, "proposed")


_DECISIONS: Final[dict[str, Any]] = {
    "approve": (retention.approve, "approved"),
    "reject": (retention.reject, "rejected"),
    "execute": (retention.execute, "executed"),
}


@router.post("/archive/disposals/{disposal_id}/{decision}")
def decide_disposal(
    request: Request,
    disposal_id: int,
    decision: str,
    actor: PageActor,
    rt: RuntimeDep,
    _: FormCsrfDep,
    record_id: Annotated[int, Form()] = 0,
) -> Response:
    """``record_id`` (a hidden field) only says which page to show again; the use-case
    loads the disposal itself and checks the person against its record."""
    if decision not in _DECISIONS:
        raise HTTPException(status_code=404)
    use_case, done = _DECISIONS[decision]
    try:
        data = use_case(rt, actor=actor, disposal_id=disposal_id)
    except REFUSALS as exc:
        return _refused(request, rt, actor, record_id, exc, field="decide")
    return _to_record(data["record_id"], done)
