"""The signature step: the signatory sees the frozen PDF and signs it.

    GET  /documents/{id}/sign                       the PDF awaiting signature (download,
                                                    page images, sha256), the approval
                                                    history, the order of signatories, the
                                                    ways to sign (only for the next
                                                    signatory), the validation result
    GET  /documents/{id}/sign/document.pdf          the PDF awaiting signature, to download
    GET  /documents/{id}/sign/pages/{sha}/{n}.png   its page images
    POST /documents/{id}/sign/upload                the PDF signed elsewhere (multipart
                                                    ``file``: size- and type-checked)
    POST /documents/{id}/sign/remote                remote signing at the provider (CSC):
                                                    credential, PIN and/or OTP
    POST /documents/{id}/sign/demo                  demo mode only: the server-held demo key

Every way to sign goes through the same use-cases as the API (``signing.upload``,
``signing.service``, ``signing.remote``) and ends, after a 303, on this page with the
validation result of the PDF as stored; the next signatory's notice went to the outbox with
the signature. A refusal shows the page again with the reason; nothing changed. The PIN
and OTP are passed to the provider and dropped: never stored, logged or shown again.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from signatures import SignatureError, ValidationReport, validate_pdf
from workflow.documents.rendition import get_file
from workflow.errors import (
    ConflictingChange,
    ErrorCode,
    EstrategiaError,
    GuardRefused,
    InvalidInput,
    NotPermitted,
    TransitionNotAllowed,
)
from workflow.i18n import ui_text
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.signing.errors import coded
from workflow.signing.overview import awaited_page_png, signing_overview
from workflow.signing.remote import remote_signing_available, sign_remotely
from workflow.signing.service import sign_with_demo_key
from workflow.signing.upload import PDF_MAGIC, accept_signed_pdf
from workflow.web.deps import RuntimeDep
from workflow.web.downloads import file_response
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])

SIGN: Final = "/documents/{document_id:int}/sign"
PDF_TYPES: Final = {"application/pdf", "application/x-pdf"}

#: The notice after signing (``?done=<way>``), msgids of ui_signing.po.
DONE: Final = {
    "upload": "Your signature has been accepted and stored.",
    "remote": "Your document has been signed at your trust service provider.",
    "demo": "Signed with the demo key (no legal force).",
}

#: What the history says for each step (msgids of ui_signing.po).
STEP_TEXT: Final = {
    "document.submit": "Submitted for review",
    "document.approve": "Approved",
    "document.request_changes": "Changes requested",
    "document.request_signatures": "Sent for signatures",
    "document.sign": "Signed",
}


def _validation(rt: Runtime, sha: str | None, signed: int) -> ValidationReport | None:
    if not sha or signed == 0:
        return None
    try:
        return validate_pdf(rt.blobs.get(sha), trust=rt.signing.trust)
    except SignatureError:  # a stored file we cannot read: the page shows no result
        return None


def _page(
    request: Request,
    rt: Runtime,
    actor: Actor,
    document_id: int,
    *,
    status_code: int = 200,
    notice: str | None = None,
    notice_kind: str = "info",
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    result_first: bool = False,
) -> Response:
    o = signing_overview(rt, actor=actor, document_id=document_id)
    signed = sum(1 for s in o.document.signatories if s.signed_at is not None)
    return render_page(
        request,
        "signing/sign.html",
        status_code=status_code,
        o=o,
        doc=o.document,
        report=_validation(rt, o.awaited_sha256, signed),
        signed_count=signed,
        remote=remote_signing_available(rt),
        step_text=STEP_TEXT,
        flash=notice,
        flash_kind=notice_kind,
        errors=errors or {},
        form=form or {},
        max_upload_mb=rt.settings.max_upload_bytes // (1024 * 1024),
        result_first=result_first,
    )


@router.get(SIGN)
def sign_page(
    request: Request, document_id: int, actor: PageActor, rt: RuntimeDep, done: str = ""
) -> Response:
    notice = ui_text(DONE[done], page_language(request)) if done in DONE else None
    return _page(
        request, rt, actor, document_id, notice=notice, notice_kind="success",
        result_first=notice is not None,
    )  # fmt: skip


@router.get(f"{SIGN}/document.pdf")
def awaited_pdf(document_id: int, actor: PageActor, rt: RuntimeDep) -> Response:
    content, filename, media_type = get_file(
        rt, actor=actor, document_id=document_id, version=None, fmt="signed"
    )
    return file_response(content, filename, media_type)


@router.get(SIGN + "/pages/{sha256}/{page:int}.png")
def page_image(
    document_id: int, sha256: str, page: int, actor: PageActor, rt: RuntimeDep
) -> Response:
    png = awaited_page_png(rt, actor=actor, document_id=document_id, sha256=sha256, page=page)
    return Response(
        png,
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


def _refused(
    request: Request,
    rt: Runtime,
    actor: Actor,
    document_id: int,
    exc: Exception,
    *,
    way: str,
    form: dict[str, str] | None = None,
) -> Response:
    """The page again with why nothing was signed (nothing changed)."""
    lang = page_language(request)
    if isinstance(exc, SignatureError):
        c = coded(exc)
        status, text = c.status, EstrategiaError(c.code, **c.params).message(lang)
    else:
        assert isinstance(exc, EstrategiaError)  # noqa: S101  # the callers catch only these
        status = {InvalidInput: 422, NotPermitted: 403}.get(type(exc), 409)
        text = exc.message(lang)
    text += " " + ui_text("Nothing was changed.", lang)
    return _page(
        request, rt, actor, document_id, status_code=status, notice=text,
        notice_kind="error", errors={way: text}, form=form,
    )  # fmt: skip


REFUSALS = (InvalidInput, GuardRefused, ConflictingChange, TransitionNotAllowed, NotPermitted)


@router.post(f"{SIGN}/upload")
def upload_signed(
    request: Request,
    document_id: int,
    actor: PageActor,
    rt: RuntimeDep,
    _: FormCsrfDep,
    file: UploadFile | None = None,
) -> Response:
    """The PDF signed elsewhere: at most the upload limit, ``application/pdf``, ``%PDF-``."""
    limit = rt.settings.max_upload_bytes
    try:
        if file is None or not file.filename:
            raise InvalidInput("file", ErrorCode.VALUE_REQUIRED)
        content = file.file.read(limit + 1)  # a sync route: FastAPI runs it in a thread
        if len(content) > limit:
            raise InvalidInput("file", ErrorCode.FILE_TOO_LARGE, limit=limit)
        declared = (file.content_type or "").split(";")[0].strip().lower()
        if declared not in PDF_TYPES or not content.startswith(PDF_MAGIC):
            raise InvalidInput("file", ErrorCode.NOT_A_PDF)
        accept_signed_pdf(rt, actor=actor, document_id=document_id, pdf=content)
    except (*REFUSALS, SignatureError) as exc:
        return _refused(request, rt, actor, document_id, exc, way="upload")
    finally:
        if file is not None:
            file.file.close()
    return RedirectResponse(f"/documents/{document_id}/sign?done=upload#result", status_code=303)


@router.post(f"{SIGN}/remote")
def sign_remote(
    request: Request,
    document_id: int,
    actor: PageActor,
    rt: RuntimeDep,
    _: FormCsrfDep,
    pdf_sha256: Annotated[str, Form(max_length=64)],
    credential_id: Annotated[str, Form(max_length=200)] = "",
    pin: Annotated[str, Form(max_length=64)] = "",
    otp: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Remote signing: the provider's credential authorisation with the PIN/OTP typed here
    (sent to the provider, never kept), then ``sign_with_key`` with the CSC key."""
    form = {"credential_id": credential_id}
    try:
        sign_remotely(
            rt, actor=actor, document_id=document_id, presented_pdf_sha256=pdf_sha256,
            credential_id=credential_id.strip() or None, pin=pin or None, otp=otp or None,
        )  # fmt: skip
    except (*REFUSALS, SignatureError) as exc:
        return _refused(request, rt, actor, document_id, exc, way="remote", form=form)
    return RedirectResponse(f"/documents/{document_id}/sign?done=remote#result", status_code=303)


@router.post(f"{SIGN}/demo")
def sign_demo(
    request: Request,
    document_id: int,
    actor: PageActor,
    rt: RuntimeDep,
    _: FormCsrfDep,
    pdf_sha256: Annotated[str, Form(max_length=64)],
) -> Response:
    """Demo mode only: the signatory's demo key, held by the server (no legal force)."""
    try:
        sign_with_demo_key(
            rt, actor=actor, document_id=document_id, presented_pdf_sha256=pdf_sha256
        )
    except (*REFUSALS, SignatureError) as exc:
        return _refused(request, rt, actor, document_id, exc, way="demo")
    return RedirectResponse(f"/documents/{document_id}/sign?done=demo#result", status_code=303)
