"""Use-cases for accounts: log in, resolve a token or a session, issue and revoke tokens.

Each opens its own transaction, like the document use-cases; ``identity`` holds the
functions they are built from. Logins, failed ones included, and token changes are audited.

A failed login records what an administrator needs to see an attack (which account was
tried, from where, how often) and nothing that must not stay in a trail that can never be
edited: never the password; the login name lower-cased and cut to ``LOGIN_NAME_LIMIT``
characters, and only if it has the shape of an e-mail address (a password typed into the
login field is recorded as its length alone). Each record is small and costs the caller a
full password check first; limiting the rate of attempts belongs to the web edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from workflow import audit
from workflow.db import transaction
from workflow.errors import InvalidInput, NotFound
from workflow.identity import actors as identity
from workflow.identity.actors import Actor
from workflow.models import User
from workflow.runtime import Runtime

LOGIN_NAME_LIMIT = 64
CLIENT_LIMIT = 64
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str
    """The plain value: shown once, only its hash is stored."""


def login(rt: Runtime, *, email: str, password: str, client: str | None = None) -> Actor | None:
    """The actor, or None; either way audited. ``client``: the address the attempt came
    from, as the web layer knows it. The password is checked in a read transaction, so
    that writers never wait for scrypt."""
    with transaction(rt.read_sessions) as session:
        actor = identity.authenticate_password(session, email, password)
        account_id = None
        if actor is None:
            account_id = session.scalars(
                select(User.id).where(User.email == email.strip().lower())
            ).first()
    with transaction(rt.sessions) as session:
        if actor is not None:
            audit.append(session, action="auth.login", actor_id=actor.user_id, actor=actor.email)
        else:
            audit.append(
                session,
                action="auth.login_failed",
                actor_id=None,
                actor="anonymous",
                payload={
                    "login": attempted_login(email),
                    "account_id": account_id,
                    "client": _cut(client, CLIENT_LIMIT) if client else None,
                },
            )
    return actor


def attempted_login(typed: str) -> str:
    """What a failed login records of the name typed (see the module docstring)."""
    name = typed.strip().lower()
    if not _EMAIL_SHAPE.fullmatch(name):
        return f"<not an e-mail address, {len(typed)} characters>"
    return _cut(name, LOGIN_NAME_LIMIT)


def _cut(text: str, limit: int) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return printable if len(printable) <= limit else printable[:limit] + "…"


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
