"""Administration: a person's login sessions, seen and ended by an e-Izba administrator."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from workflow.identity import accounts
from workflow.web.deps import CallerDep, ContextDep
from workflow.web.schemas import Outgoing
from workflow.web.types import DbId

router = APIRouter(prefix="/admin", tags=["admin"])


class SessionInfoOut(Outgoing):
    id: int
    """Names the session; it is not the cookie's value and logs no one in."""
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    """Moved forward at most once a minute."""
    expires_at: datetime
    idle_expires_at: datetime
    client: str | None
    user_agent: str | None
    revoked_at: datetime | None
    revoked_reason: str | None
    active: bool
    current: bool = False
    """The session this request came with."""


class EndedSessionsOut(BaseModel):
    ended: list[int]
    """Ids of the sessions that were open and are now ended."""


@router.get("/users/{user_id}/sessions", response_model=list[SessionInfoOut])
def list_sessions(user_id: DbId, caller: CallerDep, context: ContextDep) -> list[SessionInfoOut]:
    """The person's sessions that have not expired, ended ones included, newest first."""
    infos = accounts.list_sessions(context.runtime, actor=caller.actor, user_id=user_id)
    return [
        SessionInfoOut.of(i).model_copy(update={"current": i.id == caller.session_id})
        for i in infos
    ]


@router.delete("/users/{user_id}/sessions", response_model=EndedSessionsOut)
def end_sessions(user_id: DbId, caller: CallerDep, context: ContextDep) -> EndedSessionsOut:
    """End every open session of the person, on every app server."""
    ended = accounts.end_sessions(context.runtime, actor=caller.actor, user_id=user_id)
    return EndedSessionsOut(ended=ended)


@router.delete("/users/{user_id}/sessions/{session_id}", response_model=EndedSessionsOut)
def end_session(
    user_id: DbId, session_id: DbId, caller: CallerDep, context: ContextDep
) -> EndedSessionsOut:
    """End one session of the person."""
    ended = accounts.end_sessions(
        context.runtime, actor=caller.actor, user_id=user_id, session_id=session_id
    )
    return EndedSessionsOut(ended=ended)
