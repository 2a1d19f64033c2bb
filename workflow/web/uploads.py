"""Reading a template upload (multipart) without trusting its size.

FastAPI's ``File()`` parameters parse the whole body before any dependency runs, so the
upload route declares none: ``read_template_upload`` first refuses a declared
Content-Length over the cap, then parses the stream through a receive channel that stops
counting at the cap (a chunked body has no Content-Length). Either way the answer is a 422
naming ``file``; nothing was stored. The use-case then checks the .docx itself (zip bombs,
XXE, macros) and lints it against its schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

from workflow.config import Settings
from workflow.errors import ErrorCode, InvalidInput
from workflow.models import DocumentKind
from workflow.web.deps import ContextDep
from workflow.web.types import check_text

MAX_SCHEMA_BYTES: Final = 256 * 1024
FORM_OVERHEAD_BYTES: Final = 64 * 1024
"""Multipart boundaries, part headers and the short text fields."""


def body_cap(settings: Settings) -> int:
    """The most bytes an upload request may have: the file, the schema and the framing."""
    return settings.max_upload_bytes + MAX_SCHEMA_BYTES + FORM_OVERHEAD_BYTES


def _too_large(limit: int) -> InvalidInput:
    return InvalidInput("file", ErrorCode.FILE_TOO_LARGE, limit=limit)


@dataclass(frozen=True)
class TemplateUpload:
    filename: str
    docx: bytes
    schema: str
    kind: str
    title: str


def capped_receive(receive: Receive, *, cap: int, limit: int) -> Receive:
    """``receive``, raising the 422 as soon as more than ``cap`` body bytes came in."""
    seen = 0

    async def receive_capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise _too_large(limit)
        return message

    return receive_capped


async def _text(form: FormData, name: str, *, required: bool, max_bytes: int) -> str:
    value = form.get(name)
    if isinstance(value, UploadFile):  # a client may send the schema as a file part
        raw = await value.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise InvalidInput(name, ErrorCode.FILE_TOO_LARGE, limit=max_bytes)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(name, ErrorCode.NOT_UTF8) from None
    if value is None or not value.strip():
        if required:
            raise InvalidInput(name, ErrorCode.VALUE_REQUIRED)
        return ""
    try:
        return check_text(str(value))
    except ValueError:
        raise InvalidInput(name, ErrorCode.CONTROL_CHARACTERS) from None


async def read_template_upload(request: Request, context: ContextDep) -> TemplateUpload:
    limit = context.settings.max_upload_bytes
    cap = body_cap(context.settings)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(limit)
    capped = Request(request.scope, receive=capped_receive(request.receive, cap=cap, limit=limit))
    try:
        form = await capped.form(max_files=2, max_fields=4, max_part_size=MAX_SCHEMA_BYTES)
    except HTTPException as exc:  # Starlette's answer to a malformed form or an oversize part
        if exc.status_code == 413:  # the app's ceiling on every body noticed it first
            raise _too_large(limit) from None
        raise InvalidInput("form", ErrorCode.FORM_UNREADABLE, detail=exc.detail) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file", ErrorCode.TEMPLATE_FILE_REQUIRED)
        docx = await upload.read(limit + 1)
        if len(docx) > limit:
            raise _too_large(limit)
        return TemplateUpload(
            filename=upload.filename or "",
            docx=docx,
            schema=await _text(form, "schema", required=True, max_bytes=MAX_SCHEMA_BYTES),
            kind=await _text(form, "kind", required=True, max_bytes=100),
            title=await _text(form, "title", required=False, max_bytes=1000),
        )
    finally:
        await form.close()


TemplateUploadDep = Annotated[TemplateUpload, Depends(read_template_upload)]

#: The request body as OpenAPI should show it (the route reads it by hand, see above).
UPLOAD_OPENAPI: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "schema", "kind"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": ".docx"},
                        "schema": {"type": "string", "description": "field schema, JSON"},
                        "kind": {"type": "string", "enum": [k.value for k in DocumentKind]},
                        "title": {"type": "string"},
                    },
                }
            }
        },
    }
}


async def read_pdf_body(request: Request, context: ContextDep) -> bytes:
    """A raw ``application/pdf`` body, refused (422 ``file``) past the upload limit."""
    limit = context.settings.max_upload_bytes
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/pdf":
        raise InvalidInput("file", ErrorCode.PDF_BODY_REQUIRED)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


PdfBodyDep = Annotated[bytes, Depends(read_pdf_body)]

PDF_BODY_OPENAPI: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}
