"""Sign-in and sign-out pages: ``GET``/``POST /login``, ``POST /logout``.

Signing in uses ``accounts.login`` (a new server-side session each time, the value the
browser held revoked, failed logins throttled: the 429 is shown in the form). The login
form is protected against login CSRF by a token bound to a short-lived random cookie of
its own (``estrategia_login``, SameSite=Strict, path ``/login``) and by refusing a
foreign ``Origin``; every form after login carries the session's CSRF token.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Final

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from workflow.errors import TooManyAttempts
from workflow.i18n import ui_text
from workflow.identity import accounts
from workflow.web.deps import get_context
from workflow.web.pages.deps import FormCsrfDep, PageCaller, page_caller_or_none, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page
from workflow.web.security import (
    SESSION_COOKIE,
    clear_session_cookie,
    same_origin,
    set_session_cookie,
)

router = page_router(tags=["pages"])

LOGIN_COOKIE: Final = "estrategia_login"
_LOGIN_CONTEXT: Final = "login:"


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another site, //host) is "/"."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _login_token(request: Request, seed: str) -> str:
    return get_context(request).csrf.token_for(_LOGIN_CONTEXT + seed)


def _login_form(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    notice_kind: str = "info",
    status_code: int = 200,
) -> Response:
    seed = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    request.state.form_csrf_token = _login_token(request, seed)
    response = render_page(
        request, "auth/login.html", status_code=status_code,
        form={"email": email}, errors=errors or {}, next_path=next_path,
        flash=notice, flash_kind=notice_kind,
    )  # fmt: skip
    response.set_cookie(
        LOGIN_COOKIE, seed, max_age=3600, path="/login", httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.get("/login")
def login_page(request: Request, next: str = "/", expired: int = 0, out: int = 0) -> Response:
    if page_caller_or_none(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    lang = page_language(request)
    notice, kind = None, "info"
    if expired:
        notice, kind = ui_text("Your session has ended. Please sign in again.", lang), "warning"
    elif out:
        notice, kind = ui_text("You have signed out.", lang), "success"
    return _login_form(request, next_path=safe_next(next), notice=notice, notice_kind=kind)


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    lang = page_language(request)
    next_path = safe_next(next)
    seed = request.cookies.get(LOGIN_COOKIE)
    if (
        not same_origin(request)
        or not seed
        or not secrets.compare_digest(csrf_token.encode(), _login_token(request, seed).encode())
    ):
        notice = ui_text(
            "The sign-in form has expired. Please enter your e-mail and password again.", lang
        )
        return _login_form(
            request, next_path=next_path, email=email, notice=notice, notice_kind="error",
            status_code=403,
        )  # fmt: skip
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = ui_text("Enter your e-mail address.", lang)
    if not password:
        errors["password"] = ui_text("Enter your password.", lang)
    if errors:
        return _login_form(
            request, next_path=next_path, email=email, errors=errors, status_code=422
        )
    context = get_context(request)
    try:
        logged_in = accounts.login(
            context.runtime,
            email=email,
            password=password,
            client=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            replacing=request.cookies.get(SESSION_COOKIE),
        )
    except TooManyAttempts as exc:
        response = _login_form(
            request, next_path=next_path, email=email, errors={"_form": exc.message(lang)},
            status_code=429,
        )  # fmt: skip
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    if logged_in is None:
        message = ui_text("The e-mail address or the password is wrong.", lang)
        return _login_form(
            request, next_path=next_path, email=email, errors={"_form": message},
            status_code=401,
        )  # fmt: skip
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(
        request, response, logged_in.session.token,
        context.settings.identity.session_max_age_s,
        secure=context.settings.identity.secure_cookies,
    )  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, caller: PageCaller, _: FormCsrfDep) -> Response:
    context = get_context(request)
    if caller.session_id is not None:
        accounts.logout(context.runtime, actor=caller.actor, session_id=caller.session_id)
    response = RedirectResponse("/login?out=1", status_code=303)
    clear_session_cookie(request, response, secure=context.settings.identity.secure_cookies)
    return response
