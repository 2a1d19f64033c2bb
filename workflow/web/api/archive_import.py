"""``POST /api/v1/archive/imports``: an agreement signed before this system, into the archive.

Multipart: ``file`` (the PDF) and, optionally, ``meta`` (its metadata as a JSON object, as
text or as a file part; see ``workflow.archive.importing`` for the defaults). Archivists
and administrators only (403 ``archive_needs_archivist`` before the body is read).

Answers: 201 with the new record; 200 with the existing one when the same bytes are
already archived (``already_archived``: true; nothing stored again); 413
``file_too_large`` over ``ESTRATEGIA_MAX_UPLOAD_BYTES``; 415 ``not_a_pdf`` when the bytes
are not a PDF (whatever the file is called); 422 ``pdf_unreadable`` for a PDF that cannot
be read, and 422 naming the field for bad metadata (``meta``, ``retention_years``,
``parties[1].teryt``...). A scan is stored ``ocr_pending`` and its OCR job queued.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from workflow.archive.importing import IMPORT_ROLES, ImportOutcome, import_pdf
from workflow.errors import ErrorCode, InvalidInput, NotPermitted
from workflow.identity.actors import Actor
from workflow.jobs.handlers.ocr import queue_ocr
from workflow.runtime import Runtime
from workflow.web.deps import ContextDep, CurrentActor, RuntimeDep
from workflow.web.errors import error_response
from workflow.web.uploads import FORM_OVERHEAD_BYTES, capped_receive

log = logging.getLogger(__name__)

router = APIRouter(prefix="/archive", tags=["archive"])

MAX_META_BYTES: Final = 64 * 1024
STATUS_OF: Final = {ErrorCode.FILE_TOO_LARGE: 413, ErrorCode.NOT_A_PDF: 415}
"""The refusals of the file that have an HTTP status of their own (the rest: 422)."""

IMPORT_OPENAPI: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "PDF"},
                        "meta": {"type": "string", "description": "metadata, a JSON object"},
                    },
                }
            }
        },
    }
}


def require_archivist(actor: CurrentActor) -> Actor:
    if not any(actor.has_role(r) for r in IMPORT_ROLES):
        raise NotPermitted(ErrorCode.ARCHIVE_NEEDS_ARCHIVIST)
    return actor


Archivist = Annotated[Actor, Depends(require_archivist)]


async def _meta(form: FormData) -> dict[str, Any] | None:
    value = form.get("meta")
    if isinstance(value, UploadFile):
        raw = await value.read(MAX_META_BYTES + 1)
        if len(raw) > MAX_META_BYTES:
            raise InvalidInput("meta", ErrorCode.FILE_TOO_LARGE, limit=MAX_META_BYTES)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("meta", ErrorCode.NOT_UTF8) from None
    if value is None or not value.strip():
        return None
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise InvalidInput("meta", ErrorCode.ARCHIVE_META_NOT_JSON, detail=str(exc)) from None
    if not isinstance(data, dict):
        raise InvalidInput("meta", ErrorCode.DATA_NOT_OBJECT)
    return data


async def _read(request: Request, limit: int) -> tuple[str, bytes, dict[str, Any] | None]:
    """The file's name and bytes and the metadata; the file refused past ``limit``."""
    cap = limit + MAX_META_BYTES + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise InvalidInput("file", ErrorCode.FILE_TOO_LARGE, limit=limit)
    capped = Request(request.scope, receive=capped_receive(request.receive, cap=cap, limit=limit))
    try:
        form = await capped.form(max_files=2, max_fields=2, max_part_size=MAX_META_BYTES)
    except HTTPException as exc:
        if exc.status_code == 413:
            raise InvalidInput("file", ErrorCode.FILE_TOO_LARGE, limit=limit) from None
        raise InvalidInput("form", ErrorCode.FORM_UNREADABLE, detail=exc.detail) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file", ErrorCode.VALUE_REQUIRED)
        pdf = await upload.read(limit + 1)
        if len(pdf) > limit:
            raise InvalidInput("file", ErrorCode.FILE_TOO_LARGE, limit=limit)
        return upload.filename or "import.pdf", pdf, await _meta(form)
    finally:
        await form.close()


def outcome_json(outcome: ImportOutcome) -> dict[str, Any]:
    return {
        "record_id": outcome.record_id,
        "sha256": outcome.sha256,
        "title": outcome.title,
        "file_name": outcome.file_name,
        "already_archived": outcome.already_archived,
        "signature_status": outcome.signature_status,
        "pades_level": outcome.pades_level,
        "text_status": outcome.text_status,
        "problems": list(outcome.problems),
    }


@router.post("/imports", openapi_extra=IMPORT_OPENAPI, status_code=201)
async def import_agreement(
    request: Request, actor: Archivist, context: ContextDep, rt: RuntimeDep
) -> JSONResponse:
    """Import one PDF (see the module docstring for the answers)."""
    try:
        file_name, pdf, meta = await _read(request, context.settings.max_upload_bytes)
        outcome = await run_in_threadpool(
            _import, rt, pdf=pdf, file_name=file_name, meta=meta, actor=actor
        )
    except InvalidInput as exc:
        code = exc.code if isinstance(exc.code, ErrorCode) else None
        status = STATUS_OF.get(code) if code is not None and exc.field == "file" else None
        if status is None:
            raise
        return error_response(
            request, status=status, code=exc.code, kind=exc.kind, params=exc.params,
            extra={"field": exc.field},
        )  # fmt: skip
    status = 200 if outcome.already_archived else 201
    return JSONResponse(outcome_json(outcome), status_code=status)


def _import(
    rt: Runtime, *, pdf: bytes, file_name: str, meta: dict[str, Any] | None, actor: Actor
) -> ImportOutcome:
    outcome = import_pdf(rt, pdf=pdf, file_name=file_name, meta=meta, actor=actor)
    if outcome.needs_ocr:
        try:
            queue_ocr(rt, outcome.record_id)
        except Exception:  # the queue is down: archive.ocr_sweep queues it later
            log.exception("archive record %s: OCR not queued now", outcome.record_id)
    return outcome
