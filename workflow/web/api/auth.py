"""Login sessions, password changes and API tokens (see ``workflow.web.security``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from workflow.identity import accounts
from workflow.identity.sessions import IssuedSession
from workflow.web.deps import (
    CallerDep,
    ContextDep,
    CurrentActor,
    SessionCaller,
    WebContext,
    guard_login_request,
)
from workflow.web.errors import BadCredentials
from workflow.web.schemas import (
    ErrorOut,
    Incoming,
    LoginIn,
    SessionOut,
    TokenIn,
    TokenOut,
    UserOut,
)
from workflow.web.security import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from workflow.web.types import DbId

router = APIRouter(prefix="/auth", tags=["auth"])


class PasswordChangeIn(Incoming):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _start(request: Request, response: Response, context: WebContext, issued: IssuedSession) -> str:
    """Hand the browser a new session's value; its CSRF token."""
    set_session_cookie(
        request,
        response,
        issued.token,
        context.settings.identity.session_max_age_s,
        secure=context.settings.identity.secure_cookies,
    )
    return context.csrf.token_for(issued.token)


@router.post(
    "/login",
    response_model=SessionOut,
    dependencies=[Depends(guard_login_request)],
    responses={
        415: {"model": ErrorOut, "description": "The body is not JSON"},
        429: {
            "model": ErrorOut,
            "description": "Too many failed logins for this account or address; see Retry-After",
        },
    },
)
def login(body: LoginIn, request: Request, response: Response, context: ContextDep) -> SessionOut:
    logged_in = accounts.login(
        context.runtime,
        email=body.email,
        password=body.password,
        client=_client(request),
        user_agent=request.headers.get("user-agent"),
        replacing=request.cookies.get(SESSION_COOKIE),
    )
    if logged_in is None:
        raise BadCredentials
    csrf = _start(request, response, context, logged_in.session)
    return SessionOut(user=UserOut.of(logged_in.actor), csrf_token=csrf, authenticated_by="session")


@router.post("/logout", status_code=204)
def logout(
    caller: SessionCaller, request: Request, response: Response, context: ContextDep
) -> None:
    """End this session on every app server."""
    if caller.session_id is not None:
        accounts.logout(context.runtime, actor=caller.actor, session_id=caller.session_id)
    clear_session_cookie(request, response, secure=context.settings.identity.secure_cookies)


@router.post(
    "/password",
    response_model=SessionOut,
    responses={429: {"model": ErrorOut, "description": "Too many wrong current passwords"}},
)
def change_password(
    body: PasswordChangeIn,
    caller: SessionCaller,
    request: Request,
    response: Response,
    context: ContextDep,
) -> SessionOut:
    """Set a new password: every other session of the person ends; this one goes on under
    a new cookie and CSRF token (returned)."""
    assert caller.session_id is not None  # noqa: S101  # SessionCaller: a session
    issued = accounts.change_password(
        context.runtime,
        actor=caller.actor,
        session_id=caller.session_id,
        current=body.current_password,
        new=body.new_password,
        client=_client(request),
        user_agent=request.headers.get("user-agent"),
    )
    csrf = _start(request, response, context, issued)
    return SessionOut(user=UserOut.of(caller.actor), csrf_token=csrf, authenticated_by="session")


@router.get("/me", response_model=SessionOut)
def me(caller: CallerDep) -> SessionOut:
    return SessionOut(
        user=UserOut.of(caller.actor), csrf_token=caller.csrf_token, authenticated_by=caller.via
    )


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenIn, caller: SessionCaller, context: ContextDep) -> TokenOut:
    issued = accounts.issue_token(context.runtime, actor=caller.actor, name=body.name)
    return TokenOut.of(issued)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: DbId, actor: CurrentActor, context: ContextDep) -> None:
    accounts.revoke_token(context.runtime, actor=actor, token_id=token_id)
