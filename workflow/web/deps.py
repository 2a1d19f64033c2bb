"""Dependencies as named types, in the manner of the FastAPI full-stack template:

    def approve(document_id: int, actor: CurrentActor, rt: RuntimeDep) -> ...

``WebContext`` is built once by the app's lifespan and reaches each request through the
lifespan state; nothing here opens a database session (the use-cases in
``workflow.identity.accounts`` do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request

from workflow.config import Settings
from workflow.identity import accounts
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.web.errors import (
    AuthenticationRequired,
    CrossOriginRefused,
    CsrfFailed,
    JsonRequired,
    SessionRequired,
)
from workflow.web.security import (
    CSRF_HEADER,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    CsrfTokens,
    bearer_token,
    same_origin,
)


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    runtime: Runtime
    csrf: CsrfTokens


@dataclass(frozen=True)
class Caller:
    """An authenticated request: who, and by which credential."""

    actor: Actor
    via: Literal["session", "token"]
    csrf_token: str | None
    """The session's CSRF token (None for API tokens)."""
    session_id: int | None = None
    """The login session's id (None for API tokens): names it, is no credential."""


def get_context(request: Request) -> WebContext:
    context: WebContext = request.state.web
    return context


async def _context_dependency(request: Request) -> WebContext:
    return get_context(request)


# The dependencies that only look at what is at hand are coroutines: FastAPI runs a plain
# function dependency in the thread pool, a hop to another thread and back for each
# (bench/web.py's profile). Only those that read the database (the caller) are functions.
ContextDep = Annotated[WebContext, Depends(_context_dependency)]


async def get_runtime(context: ContextDep) -> Runtime:
    return context.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_caller(request: Request, context: ContextDep) -> Caller:
    token = bearer_token(request)
    if token is not None:
        actor = accounts.actor_for_token(context.runtime, token) if token else None
        if actor is None:
            raise AuthenticationRequired
        return Caller(actor=actor, via="token", csrf_token=None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise AuthenticationRequired
    resolved = accounts.resolve_session(context.runtime, cookie)
    if resolved is None:
        raise AuthenticationRequired
    if request.method in UNSAFE_METHODS and not context.csrf.matches(
        cookie, request.headers.get(CSRF_HEADER)
    ):
        raise CsrfFailed
    return Caller(
        actor=resolved.actor,
        via="session",
        csrf_token=context.csrf.token_for(cookie),
        session_id=resolved.id,
    )


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_actor(caller: CallerDep) -> Actor:
    return caller.actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


async def require_session(caller: CallerDep) -> Caller:
    """For what a stolen API token must not do (make more tokens)."""
    if caller.via != "session":
        raise SessionRequired
    return caller


SessionCaller = Annotated[Caller, Depends(require_session)]


async def guard_login_request(request: Request) -> None:
    """Against login CSRF: JSON only (no cross-site form can send it) and no foreign Origin."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise JsonRequired
    if not same_origin(request):
        raise CrossOriginRefused
