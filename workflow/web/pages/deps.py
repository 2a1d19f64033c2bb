"""Dependencies of the pages, as named types (compare ``workflow.web.deps`` for the API):

    @router.get("/documents/{document_id}")
    def document_page(request: Request, document_id: int, actor: PageActor, rt: RuntimeDep): ...

    @router.post("/documents/{document_id}/comments", dependencies=[FormCsrf])
    def comment(request: Request, caller: PageCaller, body: Annotated[str, Form()]): ...

``PageCaller`` / ``PageActor``
    The person of the session cookie (never an API token: pages are for browsers). Not
    logged in, or the session ended: ``LoginRequired``, which the page routes answer with a
    303 to ``/login?next=<path>`` for GET/HEAD and a 403 page for any other method.
``FormCsrf``
    For every POST of a form: the form's ``csrf_token`` field must be the token of the
    caller's session (``CsrfTokens.matches``); otherwise ``PageCsrfFailed``, a 403 page,
    and the route does not run (nothing changes). Use it as ``dependencies=[FormCsrf]`` or
    as a parameter ``_: FormCsrfDep``.
``page_language(request)``
    ``?lang=pl|en`` (remembered in the ``lang`` cookie by ``render_page``), else the cookie,
    else Accept-Language, else Polish.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, Request

from workflow.i18n import LANGUAGES, negotiate
from workflow.identity import accounts
from workflow.identity.actors import Actor
from workflow.web.deps import Caller, get_context
from workflow.web.security import SESSION_COOKIE

CSRF_FIELD: Final = "csrf_token"
LANG_COOKIE: Final = "lang"
_UNRESOLVED: Final = object()


class LoginRequired(Exception):  # a page outcome, named like the API's errors
    """No live session: GET goes to the login page, anything else gets a 403 page.
    ``expired``: a session cookie was sent but its session has ended."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class PageCsrfFailed(Exception):  # a page outcome, named like the API's errors
    """A POST form without the session's CSRF token: 403 page, nothing changed."""


def page_language(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        return chosen
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return negotiate(request.headers.get("accept-language"))


def _resolve(request: Request) -> Caller | None:
    """The caller of the session cookie, resolved once per request (cached on its state)."""
    cached: Any = getattr(request.state, "page_caller", _UNRESOLVED)
    if cached is not _UNRESOLVED:
        return cached  # set below: Caller | None
    cookie = request.cookies.get(SESSION_COOKIE)
    caller: Caller | None = None
    if cookie:
        context = get_context(request)
        resolved = accounts.resolve_session(context.runtime, cookie)
        if resolved is not None:
            caller = Caller(
                actor=resolved.actor,
                via="session",
                csrf_token=context.csrf.token_for(cookie),
                session_id=resolved.id,
            )
    request.state.page_caller = caller
    return caller


def page_caller_or_none(request: Request) -> Caller | None:
    """For pages anyone may open (the login page, the public start page)."""
    return _resolve(request)


def get_page_caller(request: Request) -> Caller:
    caller = _resolve(request)
    if caller is None:
        raise LoginRequired(expired=bool(request.cookies.get(SESSION_COOKIE)))
    return caller


PageCaller = Annotated[Caller, Depends(get_page_caller)]
OptionalPageCaller = Annotated[Caller | None, Depends(page_caller_or_none)]


async def get_page_actor(caller: PageCaller) -> Actor:
    """A coroutine: nothing to wait for, so no hop to the thread pool (see web.deps)."""
    return caller.actor


PageActor = Annotated[Actor, Depends(get_page_actor)]


async def check_form_csrf(request: Request, caller: PageCaller) -> None:
    form = await request.form()  # parsed once: Starlette keeps it for the route's Form()
    presented = form.get(CSRF_FIELD)
    cookie = request.cookies.get(SESSION_COOKIE) or ""
    if not isinstance(presented, str) or not get_context(request).csrf.matches(cookie, presented):
        raise PageCsrfFailed


FormCsrf = Depends(check_form_csrf)
FormCsrfDep = Annotated[None, FormCsrf]
