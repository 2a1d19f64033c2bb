"""Login sessions kept in the database, so that every app server sees the same ones.

The browser holds an opaque random value (``secrets.token_urlsafe(32)``, 256 bits); the
table ``sessions`` keeps only its SHA-256, the user, when it was made and last used, its
absolute end, where it came from (for the admin view) and when and why it was revoked.
A session is *active* while it is not revoked, before ``expires_at`` (``max_age`` after
login) and used within ``idle_timeout``.

Checking a request's session is one statement, built once: an indexed lookup (the unique
``token_sha256``) joined with the user and their memberships, and in the same round trip
the e-Izba offices that membership of an office extends to. ``resolve`` returns the actor
with it. Nothing of it is cached between requests: a revoked session (logout, a password
change, sessions ended everywhere), an expired one, a deactivated account or a changed
tree of offices counts at once, on every server.
``last_seen_at`` moves forward at most once a minute (``TOUCH_INTERVAL``), by a
conditional UPDATE outside the read, so most requests write nothing.

These functions work in the caller's transaction; ``workflow.identity.accounts`` holds
the use-cases (log in, log out, change a password, end a person's sessions).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Integer,
    bindparam,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from workflow.identity.actors import Actor, actor_from_rows
from workflow.models import LoginSession, Membership, Organisation, OrganisationKind, User
from workflow.states import Role

TOUCH_INTERVAL = timedelta(minutes=1)
CLIENT_LIMIT = 64
USER_AGENT_LIMIT = 200


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: timedelta
    max_age: timedelta


@dataclass(frozen=True)
class IssuedSession:
    id: int
    token: str
    """The cookie's value: given to the browser once, only its hash is stored."""
    expires_at: datetime


@dataclass(frozen=True)
class ResolvedSession:
    id: int
    actor: Actor
    last_seen_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    """A session as the admin view shows it; ``id`` names it and is no credential."""

    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_expires_at: datetime
    client: str | None
    user_agent: str | None
    revoked_at: datetime | None
    revoked_reason: str | None
    active: bool


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _printable(text: str | None, limit: int) -> str | None:
    if not text:
        return None
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return printable[:limit]


def create(
    session: Session,
    *,
    user_id: int,
    now: datetime,
    policy: SessionPolicy,
    client: str | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    """A new session with a new random value (never one the browser brought)."""
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        token_sha256=token_hash(token),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.max_age,
        client=_printable(client, CLIENT_LIMIT),
        user_agent=_printable(user_agent, USER_AGENT_LIMIT),
    )
    session.add(row)
    session.flush()
    return IssuedSession(id=row.id, token=token, expires_at=row.expires_at)


#: The whole check of a session cookie as one statement, built once (per request only its
#: parameters change): the session's row joined with its active user and their memberships,
#: and, in the same round trip, every e-Izba office with its parent (the offices a member
#: of the head office oversees; read fresh each time, so a new or moved branch counts at
#: once on every server). Rows of the first part carry ``kind`` 0, the offices 1.
def _resolve_statement() -> CompoundSelect[Any]:
    live = select(
        literal_column("0", Integer).label("kind"),
        LoginSession.id.label("session_id"),
        LoginSession.last_seen_at,
        User.id.label("user_id"),
        User.email,
        User.full_name,
        Membership.organisation_id,
        Membership.role,
        null().label("parent_id"),
    )
    live = (
        live.select_from(LoginSession)
        .join(User, User.id == LoginSession.user_id)
        .outerjoin(Membership, Membership.user_id == User.id)
        .where(
            LoginSession.token_sha256 == bindparam("token_sha256"),
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > bindparam("now"),
            LoginSession.last_seen_at > bindparam("idle_since"),
            User.is_active.is_(True),
        )
    )
    offices = select(
        literal_column("1", Integer), null(), null(), null(), null(), null(),
        Organisation.id, null(), Organisation.parent_id,
    ).where(Organisation.kind.in_([k for k in OrganisationKind if k.is_chamber]))  # fmt: skip
    return union_all(live, offices)


_RESOLVE = _resolve_statement()


def resolve(
    session: Session, token: str, *, now: datetime, policy: SessionPolicy
) -> ResolvedSession | None:
    """The active session of ``token`` and its active user's actor, or None: one query."""
    params = {
        "token_sha256": token_hash(token),
        "now": now,
        "idle_since": now - policy.idle_timeout,
    }
    rows = session.connection().execute(_RESOLVE, params).all()
    mine = [r for r in rows if r.kind == 0]
    if not mine:
        return None
    first = mine[0]
    memberships: list[tuple[int, Role]] = [
        (r.organisation_id, Role(r.role)) for r in mine if r.organisation_id is not None
    ]
    offices = {r.organisation_id: r.parent_id for r in rows if r.kind == 1}
    actor = actor_from_rows(
        user_id=first.user_id,
        email=first.email,
        full_name=first.full_name,
        memberships=memberships,
        offices=offices if memberships else {},
    )
    return ResolvedSession(id=first.session_id, actor=actor, last_seen_at=first.last_seen_at)


def needs_touch(resolved: ResolvedSession, now: datetime) -> bool:
    return now - resolved.last_seen_at >= TOUCH_INTERVAL


def touch(session: Session, session_id: int, *, now: datetime) -> None:
    """Move ``last_seen_at`` to ``now`` unless another request did within the minute."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.last_seen_at <= now - TOUCH_INTERVAL)
        .values(last_seen_at=now)
    )


def revoke_token(session: Session, token: str, *, reason: str, now: datetime) -> int | None:
    """Revoke the session of ``token`` if it is still open; its id, or None."""
    revoked = session.scalars(
        update(LoginSession)
        .where(LoginSession.token_sha256 == token_hash(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .returning(LoginSession.id)
    ).first()
    return revoked


def revoke_all(
    session: Session,
    *,
    user_id: int,
    reason: str,
    now: datetime,
    except_id: int | None = None,
    only_id: int | None = None,
) -> list[int]:
    """Revoke the open sessions of a person (all, all but one, or just one); their ids."""
    query = update(LoginSession).where(
        LoginSession.user_id == user_id,
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > now,
    )
    if except_id is not None:
        query = query.where(LoginSession.id != except_id)
    if only_id is not None:
        query = query.where(LoginSession.id == only_id)
    returned = session.scalars(
        query.values(revoked_at=now, revoked_reason=reason).returning(LoginSession.id)
    )
    return sorted(returned)


def list_for_user(
    session: Session, *, user_id: int, now: datetime, policy: SessionPolicy
) -> list[SessionInfo]:
    """A person's sessions that have not yet expired (revoked ones included), newest first."""
    rows = session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.expires_at > now)
        .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
    ).all()
    infos = []
    for r in rows:
        idle_end = min(r.last_seen_at + policy.idle_timeout, r.expires_at)
        infos.append(
            SessionInfo(
                id=r.id,
                user_id=r.user_id,
                created_at=r.created_at,
                last_seen_at=r.last_seen_at,
                expires_at=r.expires_at,
                idle_expires_at=idle_end,
                client=r.client,
                user_agent=r.user_agent,
                revoked_at=r.revoked_at,
                revoked_reason=r.revoked_reason,
                active=r.revoked_at is None and idle_end > now,
            )
        )
    return infos
