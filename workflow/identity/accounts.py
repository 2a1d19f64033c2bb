"""Use-cases for accounts: log in, resolve a token or a session, issue and revoke tokens.

Each opens its own transaction, like the document use-cases; ``identity`` holds the
functions they are built from. Successful logins and token changes are audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow import audit
from workflow.db import transaction
from workflow.errors import InvalidInput, NotFound
from workflow.identity import actors as identity
from workflow.identity.actors import Actor
from workflow.runtime import Runtime


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str
    """The plain value: shown once, only its hash is stored."""


def login(rt: Runtime, *, email: str, password: str) -> Actor | None:
    with transaction(rt.sessions) as session:
        actor = identity.authenticate_password(session, email, password)
        if actor is not None:
            audit.append(session, action="auth.login", actor_id=actor.user_id, actor=actor.email)
        return actor


def actor_for_token(rt: Runtime, token: str) -> Actor | None:
    with transaction(rt.read_sessions) as session:
        return identity.authenticate_token(session, token)


def actor_for_user(rt: Runtime, user_id: int) -> Actor | None:
    """The active user's actor, or None when the account is gone or deactivated."""
    with transaction(rt.read_sessions) as session:
        try:
            return identity.load_actor(session, user_id)
        except NotFound:
            return None


def issue_token(rt: Runtime, *, actor: Actor, name: str) -> IssuedToken:
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("name", "required, at most 120 characters")
    with transaction(rt.sessions) as session:
        token_id, token = identity.create_api_token(session, user_id=actor.user_id, name=name)
        audit.append(
            session, action="auth.token_issued", actor_id=actor.user_id, actor=actor.email,
            payload={"token_id": token_id, "name": name},
        )  # fmt: skip
        return IssuedToken(id=token_id, name=name, token=token)


def revoke_token(rt: Runtime, *, actor: Actor, token_id: int) -> None:
    with transaction(rt.sessions) as session:
        identity.revoke_api_token(session, user_id=actor.user_id, token_id=token_id)
        audit.append(
            session, action="auth.token_revoked", actor_id=actor.user_id, actor=actor.email,
            payload={"token_id": token_id},
        )  # fmt: skip
