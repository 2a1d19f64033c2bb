"""The two ways into the archive, as forms:

    GET/POST /documents/{id}/archive    archive a signed document: its metadata, prefilled
                                        from the installation's retention scheme, editable
    GET/POST /archive/import            import an agreement signed before this system (a
                                        PDF, signed or a scan) with its metadata

Both call the archive's use-cases (``archiving.archive_document``, ``importing.import_pdf``;
a scan's OCR job is queued as by the API) and end on the record's page; a refusal comes
back as the form with the error beside the field it names. The upload is read up to the
upload limit; its type is judged by its bytes (``%PDF-``), never by its name.
Its words: ``ui_archive.po``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from workflow.archive.archiving import archive_document
from workflow.archive.importing import IMPORT_ROLES, import_pdf
from workflow.archive.overview import archiving_form
from workflow.errors import (
    ConflictingChange,
    ErrorCode,
    EstrategiaError,
    GuardRefused,
    InvalidInput,
    NotPermitted,
    TransitionNotAllowed,
)
from workflow.identity.actors import Actor
from workflow.jobs.handlers.ocr import queue_ocr
from workflow.runtime import Runtime
from workflow.web.deps import RuntimeDep
from workflow.web.pages.archive_search import VALUE_LABELS
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])
log = logging.getLogger(__name__)

META_FIELDS: Final = ("title", "jrwa_symbol", "category", "retention_years", "case_closed_on")
IMPORT_FIELDS: Final = (*META_FIELDS, "kind", "party_name", "party_teryt")
REFUSALS = (InvalidInput, GuardRefused, ConflictingChange, NotPermitted, TransitionNotAllowed)
_FIELD_OF: Final = {"parties[1].teryt": "party_teryt", "parties[1].name": "party_name"}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def overrides(form: Mapping[str, str], *, with_party: bool = False) -> dict[str, Any]:
    """The metadata fields the form filled, as the JSON values ``ArchiveMetadata`` takes;
    an empty field keeps the default (the years of category A: none)."""
    chosen: dict[str, Any] = {k: form[k] for k in META_FIELDS if form.get(k)}
    years = form.get("retention_years", "")
    if years:  # not a number: passed on, refused naming the field
        chosen["retention_years"] = int(years) if years.isdigit() else years
    elif form.get("category"):  # a category without years: right for A, named for B
        chosen["retention_years"] = None
    if with_party and form.get("party_name"):
        chosen["parties"] = [{"name": form["party_name"], "teryt": form.get("party_teryt") or None}]
    if with_party and form.get("kind"):
        chosen["kind"] = form["kind"]
    return chosen


def _field_error(exc: EstrategiaError, lang: str) -> dict[str, str]:
    field = exc.field if isinstance(exc, InvalidInput) else "form"
    return {_FIELD_OF.get(field, field): exc.message(lang)}


def _archive_page(
    request: Request, rt: Runtime, actor: Actor, document_id: int, *,
    form: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    start = archiving_form(rt, actor=actor, document_id=document_id)
    defaults = start.defaults.to_json()
    shown = {k: "" if defaults.get(k) is None else str(defaults[k]) for k in META_FIELDS}
    shown["lock_version"] = str(start.lock_version)
    shown.update(form or {})
    return render_page(
        request, "archive/archive_document.html", status_code=status_code, start=start,
        parties=start.defaults.parties, form=shown, errors=errors or {},
        categories=VALUE_LABELS["category"],
    )  # fmt: skip


@router.get("/documents/{document_id}/archive")
def archive_form(request: Request, document_id: int, actor: PageActor, rt: RuntimeDep) -> Response:
    return _archive_page(request, rt, actor, document_id)


@router.post("/documents/{document_id}/archive")
async def archive_post(
    request: Request, document_id: int, actor: PageActor, rt: RuntimeDep, _: FormCsrfDep
) -> Response:
    posted = await request.form()
    form = {k: _text(posted, k) for k in (*META_FIELDS, "lock_version")}
    seen = int(form["lock_version"]) if form["lock_version"].isdigit() else None
    try:
        record_id = await run_in_threadpool(
            archive_document, rt, actor=actor, document_id=document_id,
            meta_overrides=overrides(form), seen_lock_version=seen,
        )  # fmt: skip
    except REFUSALS as exc:
        errors = _field_error(exc, page_language(request))
        return await run_in_threadpool(
            _archive_page, request, rt, actor, document_id, form=form, errors=errors,
            status_code=409 if isinstance(exc, GuardRefused | ConflictingChange) else 422,
        )  # fmt: skip
    return RedirectResponse(f"/archive/{record_id}?done=archived", status_code=303)


def _import_page(
    request: Request, *, form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    return render_page(
        request, "archive/import.html", status_code=status_code, form=form or {},
        errors=errors or {}, categories=VALUE_LABELS["category"], kinds=VALUE_LABELS["kind"],
    )  # fmt: skip


def _require_archivist(actor: Actor) -> None:
    if not any(actor.has_role(r) for r in IMPORT_ROLES):
        raise NotPermitted(ErrorCode.ARCHIVE_NEEDS_ARCHIVIST)


@router.get("/archive/import")
def import_form(request: Request, actor: PageActor) -> Response:
    _require_archivist(actor)
    return _import_page(request)


@router.post("/archive/import")
async def import_post(
    request: Request, actor: PageActor, rt: RuntimeDep, _: FormCsrfDep
) -> Response:
    _require_archivist(actor)
    posted = await request.form()
    form = {k: _text(posted, k) for k in IMPORT_FIELDS}
    upload = posted.get("file")
    limit = rt.settings.max_upload_bytes
    lang = page_language(request)
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("file", ErrorCode.VALUE_REQUIRED)
        pdf = await upload.read(limit + 1)
        meta = overrides(form, with_party=True) if any(form.values()) else None
        outcome = await run_in_threadpool(
            import_pdf, rt, pdf=pdf, file_name=upload.filename, meta=meta, actor=actor
        )
    except REFUSALS as exc:
        return _import_page(request, form=form, errors=_field_error(exc, lang), status_code=422)
    if outcome.needs_ocr:
        try:
            await run_in_threadpool(queue_ocr, rt, outcome.record_id)
        except Exception:  # the queue is down: the record is kept; archive.ocr_sweep queues it
            log.exception("archive record %s: OCR not queued now", outcome.record_id)
    done = "already" if outcome.already_archived else "imported"
    return RedirectResponse(f"/archive/{outcome.record_id}?done={done}", status_code=303)
