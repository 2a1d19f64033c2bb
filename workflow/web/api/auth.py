"""Login sessions and API tokens (see ``workflow.web.security`` for how they work)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from workflow.identity import accounts
from workflow.web.deps import (
    CallerDep,
    ContextDep,
    CurrentActor,
    SessionCaller,
    guard_login_request,
)
from workflow.web.errors import BadCredentials
from workflow.web.schemas import ErrorOut, LoginIn, SessionOut, TokenIn, TokenOut, UserOut
from workflow.web.security import clear_session_cookie, set_session_cookie
from workflow.web.types import DbId

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=SessionOut,
    dependencies=[Depends(guard_login_request)],
    responses={415: {"model": ErrorOut, "description": "The body is not JSON"}},
)
def login(body: LoginIn, request: Request, response: Response, context: ContextDep) -> SessionOut:
    client = request.client.host if request.client else None
    actor = accounts.login(context.runtime, email=body.email, password=body.password, client=client)
    if actor is None:
        raise BadCredentials
    value, session = context.sessions.issue(actor.user_id)
    set_session_cookie(request, response, value, context.sessions.max_age_s)
    return SessionOut(
        user=UserOut.of(actor), csrf_token=session.csrf_token, authenticated_by="session"
    )


@router.post("/logout", status_code=204)
def logout(caller: SessionCaller, request: Request, response: Response) -> None:
    clear_session_cookie(request, response)


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
