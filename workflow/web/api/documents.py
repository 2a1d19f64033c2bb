"""Documents: create, list, read, edit (a new version), versions and their files."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from workflow.documents.drafting import PartyInput, SignatoryInput, create_document, edit_document
from workflow.documents.reading import get_document, history, list_documents
from workflow.documents.rendition import get_file, request_pdf
from workflow.errors import ErrorCode
from workflow.i18n import negotiate, render_message
from workflow.models import DocumentKind
from workflow.states import Status
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.downloads import file_response
from workflow.web.schemas import (
    DocumentCreateIn,
    DocumentEditIn,
    DocumentListedOut,
    DocumentOut,
    VersionOut,
)
from workflow.web.types import Count, DbId

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post("", response_model=DocumentOut, status_code=201)
def create(body: DocumentCreateIn, actor: CurrentActor, rt: RuntimeDep) -> DocumentOut:
    view = create_document(
        rt,
        actor=actor,
        template_name=body.template,
        title=body.title,
        values=body.values,
        parties=[PartyInput(p.organisation_id, p.representative_id) for p in body.parties],
        signatories=[
            SignatoryInput(s.user_id, s.organisation_id, s.function) for s in body.signatories
        ],
        owner_organisation_id=body.owner_organisation_id,
    )
    return DocumentOut.of(view)


@router.get("", response_model=list[DocumentListedOut])
def documents(
    actor: CurrentActor,
    rt: RuntimeDep,
    status: Status | None = None,
    kind: DocumentKind | None = None,
    organisation_id: DbId | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[Count, Query()] = 0,
    values: Annotated[
        bool, Query(description="Each current_version with its field_values as well.")
    ] = False,
) -> Response:
    views = list_documents(
        rt,
        actor=actor,
        status=status,
        kind=kind,
        organisation_id=organisation_id,
        limit=limit,
        offset=offset,
        values=values,
    )
    return (DocumentOut if values else DocumentListedOut).list_response(views)


@router.get("/{document_id}", response_model=DocumentOut)
def document(document_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> Response:
    return DocumentOut.response(get_document(rt, actor=actor, document_id=document_id))


@router.patch("/{document_id}", response_model=DocumentOut)
def edit(
    document_id: DbId, body: DocumentEditIn, actor: CurrentActor, rt: RuntimeDep
) -> DocumentOut:
    view = edit_document(
        rt,
        actor=actor,
        document_id=document_id,
        values=body.values,
        seen_lock_version=body.seen_lock_version,
        note=body.note,
    )
    return DocumentOut.of(view)


@router.get("/{document_id}/versions", response_model=list[VersionOut])
def versions(document_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> list[VersionOut]:
    return [VersionOut.of(v) for v in history(rt, actor=actor, document_id=document_id)]


#: Seconds a client waits before asking again for a PDF being rendered.
PDF_RETRY_AFTER_S = 2


class PdfPendingOut(BaseModel):
    status: Literal["pending"] = "pending"
    code: str = ErrorCode.PDF_RENDERING.value
    detail: str
    document_id: int
    version: int
    retry_after_s: int = PDF_RETRY_AFTER_S


@router.get(
    "/{document_id}/versions/{number}/{fmt}",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "application/octet-stream": {}}},
        202: {"model": PdfPendingOut, "description": "The PDF is being rendered: ask again"},
    },
)
def version_file(
    document_id: DbId,
    number: DbId,
    fmt: Literal["docx", "pdf"],
    actor: CurrentActor,
    rt: RuntimeDep,
    request: Request,
) -> Response:
    """The version as .docx, or as PDF/A once rendered: until then 202 with
    ``Retry-After`` (the render is queued, once per version however often this is asked)."""
    if fmt == "pdf":
        state = request_pdf(rt, actor=actor, document_id=document_id, version=number)
        if not state.rendered:
            language = negotiate(request.headers.get("accept-language"))
            body = PdfPendingOut(
                detail=render_message(
                    PdfPendingOut.model_fields["code"].default,
                    {"version": state.number, "reference": state.reference},
                    language,
                ),
                document_id=state.document_id,
                version=state.number,
            )
            return JSONResponse(
                body.model_dump(),
                status_code=202,
                headers={
                    "Retry-After": str(PDF_RETRY_AFTER_S),
                    "Cache-Control": "no-store",
                    "Content-Language": language,
                },
            )
    content, filename, media_type = get_file(
        rt, actor=actor, document_id=document_id, version=number, fmt=fmt
    )
    return file_response(content, filename, media_type)


@router.get(
    "/{document_id}/signed.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def signed_pdf(document_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> Response:
    """The PDF frozen for signing with every signature made so far."""
    content, filename, media_type = get_file(
        rt, actor=actor, document_id=document_id, version=None, fmt="signed"
    )
    return file_response(content, filename, media_type)
