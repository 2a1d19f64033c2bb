"""The public "verify a document" page (``/verify``): anyone, signed in or not, uploads a
PDF and learns whether its signatures are valid and whether it is a document of the
archive (``archive.public_check``), and nothing else of the archive.

Nobody is signed in here, so the form's CSRF token is bound to a random cookie of its own
(as the login form's is), and a foreign ``Origin`` is refused. The upload is read up to
the upload limit and must be ``%PDF-``; the file is validated and forgotten, never stored.
Its words are in ``ui_archive.po``.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Final

from fastapi import Form, Request, Response, UploadFile

from workflow.archive.public_check import PublicCheck, check_pdf
from workflow.errors import ErrorCode, InvalidInput, TooManyAttempts
from workflow.i18n import ui_text
from workflow.signing.upload import PDF_MAGIC
from workflow.web.deps import RuntimeDep, get_context
from workflow.web.pages.deps import page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page
from workflow.web.security import same_origin

router = page_router(tags=["pages"])

VERIFY_COOKIE: Final = "estrategia_verify"
_CONTEXT: Final = "verify:"


def _token(request: Request, seed: str) -> str:
    return get_context(request).csrf.token_for(_CONTEXT + seed)


def _page(
    request: Request,
    *,
    result: PublicCheck | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    seed = request.cookies.get(VERIFY_COOKIE) or secrets.token_urlsafe(24)
    request.state.form_csrf_token = _token(request, seed)
    rt = get_context(request).runtime
    response = render_page(
        request, "archive/verify.html", status_code=status_code, headers=headers,
        result=result, error=error, flash=notice, flash_kind="error",
        max_upload_mb=rt.settings.max_upload_bytes // (1024 * 1024),
    )  # fmt: skip
    response.set_cookie(
        VERIFY_COOKIE, seed, max_age=3600, path="/verify", httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.get("/verify")
def verify_page(request: Request) -> Response:
    return _page(request)


@router.post("/verify")
def verify_upload(
    request: Request,
    rt: RuntimeDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    file: UploadFile | None = None,
) -> Response:
    lang = page_language(request)
    seed = request.cookies.get(VERIFY_COOKIE)
    expected = _token(request, seed) if seed else ""
    if not same_origin(request) or not seed or not secrets.compare_digest(csrf_token, expected):
        notice = ui_text("The form has expired. Please choose the file again.", lang)
        return _page(request, notice=notice, status_code=403)
    limit = rt.settings.max_upload_bytes
    try:
        if file is None or not file.filename:
            raise InvalidInput("file", ErrorCode.VALUE_REQUIRED)
        content = file.file.read(limit + 1)  # a sync route: FastAPI runs it in a thread
        if len(content) > limit:
            raise InvalidInput("file", ErrorCode.FILE_TOO_LARGE, limit=limit)
        if not content.startswith(PDF_MAGIC):
            raise InvalidInput("file", ErrorCode.NOT_A_PDF)
        client = request.client.host if request.client else None
        result = check_pdf(rt, content, client=client)
    except InvalidInput as exc:
        return _page(request, error=exc.message(lang), status_code=422)
    except TooManyAttempts as exc:
        return _page(
            request, error=exc.message(lang), status_code=429,
            headers={"Retry-After": str(exc.retry_after_s)},
        )  # fmt: skip
    finally:
        if file is not None:
            file.file.close()
    return _page(request, result=result)
