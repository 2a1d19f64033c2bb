"""Errors on the pages: HTML, never the API's JSON.

Page routers are made with ``page_router()``: their routes (``PageRoute``) turn what a
route or its dependencies raise into a page, in the request's language:

    LoginRequired             303 to /login?next=<path> (GET/HEAD), else a 403 page
    PageCsrfFailed            403 page "the form has expired", nothing changed
    NotFound                  404 page
    NotPermitted              403 page
    InvalidInput              422 page with the message (better: catch it in the route
                              and show the form again, see ``field_errors``)
    TransitionNotAllowed,
    GuardRefused,
    ConflictingChange         409 page with the message
    TooManyAttempts           429 page
    RequestValidationError    422 page (a form field FastAPI could not read)

Outside the page routes, ``browser_http_error`` answers an unknown address or a wrong
method with a page too when a browser asks for HTML (``Accept: text/html``) anywhere but
under ``/api/``; everyone else keeps the API's JSON.
    RenderingFailed,
    SignatureError            the API's status, a page with the message

A form route shows an ``InvalidInput`` next to its field like this::

    try:
        registry.create_person(rt, actor=actor, ...)
    except InvalidInput as exc:
        return render_page(request, "admin/people.html", errors=field_errors(request, exc),
                           form=form_values, status_code=422)

and the template prints ``errors.get("email")`` beside the ``email`` field (the macros of
``common/forms.html`` do it: ``field("email", t("E-mail"), form, errors)``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from signatures.errors import SignatureError
from workflow.errors import (
    EstrategiaError,
    InvalidInput,
    TooManyAttempts,
)
from workflow.i18n import render_message, ui_text
from workflow.signing.errors import coded
from workflow.web.errors import ERRORS, _validation_error, http_exception_response
from workflow.web.pages.deps import LoginRequired, PageCsrfFailed, page_language
from workflow.web.pages.rendering import render_page


def field_errors(request: Request, exc: InvalidInput) -> dict[str, str]:
    """``{field: sentence}`` of an ``InvalidInput``, in the page's language."""
    return {exc.field: exc.message(page_language(request))}


def login_url(next_path: str, *, expired: bool = False) -> str:
    url = "/login?next=" + quote(next_path, safe="/")
    return url + "&expired=1" if expired else url


def _safe_next(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


def error_page(
    request: Request, *, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return render_page(
        request, "common/error.html", status_code=status, headers=headers,
        status=status, error_message=message,
    )  # fmt: skip


def page_error_response(request: Request, exc: Exception) -> Response | None:
    """The page for an error raised on a page route; None for what is not ours."""
    lang = page_language(request)
    if isinstance(exc, LoginRequired):
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(
                login_url(_safe_next(request), expired=exc.expired), status_code=303
            )
        return error_page(request, status=403, message=_ui("login_required", lang))
    if isinstance(exc, PageCsrfFailed):
        return error_page(request, status=403, message=_ui("csrf_failed", lang))
    if isinstance(exc, EstrategiaError):
        mapping = next(ERRORS[cls] for cls in type(exc).__mro__ if cls in ERRORS)
        headers = {}
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after_s)
        return error_page(
            request, status=mapping.status, message=exc.message(lang), headers=headers
        )
    if isinstance(exc, SignatureError):
        c = coded(exc)
        return error_page(request, status=c.status, message=render_message(c.code, c.params, lang))
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        code, params = _validation_error(errors[0]) if errors else ("invalid_value", {})
        return error_page(request, status=422, message=render_message(code, params, lang))
    return None


def _ui(key: str, lang: str) -> str:
    texts = {
        "login_required": "Please sign in again: your session has ended.",
        "csrf_failed": "The form has expired or did not come from this site. Nothing was "
        "changed: go back, reload the page and try again.",
    }
    return ui_text(texts[key], lang)


def browser_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (404 unknown route, 405...): a page for a browser, else JSON."""
    wants_html = "text/html" in request.headers.get("accept", "")
    if not wants_html or request.url.path.startswith(("/api/", "/openapi.json", "/static/")):
        return http_exception_response(request, exc)
    status = int(getattr(exc, "status_code", 500))
    lang = page_language(request)
    text = "There is no such page." if status == 404 else "This address does not accept that."
    return error_page(request, status=status, message=ui_text(text, lang))


class PageRoute(APIRoute):
    """A route whose errors become pages (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                response = page_error_response(request, exc)
                if response is None:
                    raise
                return response

        return page_handler


def page_router(**kwargs: Any) -> APIRouter:
    """The router of a page module: HTML errors, not in the OpenAPI document."""
    kwargs.setdefault("include_in_schema", False)
    return APIRouter(route_class=PageRoute, **kwargs)
