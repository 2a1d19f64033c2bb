"""Use-cases for accounts: log in and out, resolve a session or a token, change a password,
end a person's sessions (admins), issue and revoke tokens.

Each opens its own transaction, like the document use-cases; ``actors``, ``sessions`` and
``throttle`` hold the functions they are built from. Logins, failed ones included,
lockouts, logouts, password changes, ended sessions and token changes are audited.

A failed login records what an administrator needs to see an attack (which account was
tried, from where, how often) and nothing that must not stay in a trail that can never be
edited: never the password; the login name lower-cased and cut to ``LOGIN_NAME_LIMIT``
characters, and only if it has the shape of an e-mail address (a password typed into the
login field is recorded as its length alone). Before any password is checked, the login
throttle (``identity.throttle``) is asked, in one query, whether the account or the
address is locked: then the attempt is refused (``TooManyAttempts``) and costs no scrypt.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.config import Settings
from workflow.db import transaction
from workflow.errors import ErrorCode, InvalidInput, NotFound, NotPermitted, TooManyAttempts
from workflow.identity import actors as identity
from workflow.identity import sessions, throttle
from workflow.identity.actors import Actor
from workflow.identity.passwords import check_new_password
from workflow.identity.sessions import IssuedSession, ResolvedSession, SessionInfo, SessionPolicy
from workflow.identity.throttle import ThrottlePolicy
from workflow.models import LoginSession, User
from workflow.runtime import Runtime
from workflow.states import Role

LOGIN_NAME_LIMIT = 64
CLIENT_LIMIT = 64
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str
    """The plain value: shown once, only its hash is stored."""


@dataclass(frozen=True)
class LoggedIn:
    actor: Actor
    session: IssuedSession
    """A new session, never one the browser brought."""


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        idle_timeout=timedelta(seconds=settings.identity.session_idle_timeout_s),
        max_age=timedelta(seconds=settings.identity.session_max_age_s),
    )


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    i = settings.identity
    return ThrottlePolicy(
        max_failures=i.login_max_failures,
        max_failures_per_client=i.login_max_failures_per_client,
        window=timedelta(seconds=i.login_failure_window_s),
        lockout=timedelta(seconds=i.login_lockout_s),
    )


def _refuse_if_locked(until: datetime | None, now: datetime) -> None:
    if until is not None:
        retry = max(1, math.ceil((until - now).total_seconds()))
        raise TooManyAttempts(ErrorCode.LOGIN_RATE_LIMITED, retry_after_s=retry)


def login(
    rt: Runtime,
    *,
    email: str,
    password: str,
    client: str | None = None,
    user_agent: str | None = None,
    replacing: str | None = None,
) -> LoggedIn | None:
    """A new session for the person, or None; either way audited. ``TooManyAttempts`` if
    the account or the address is locked (see the module docstring). ``client``: the
    address the attempt came from, as the web layer knows it; ``replacing``: the session
    value the browser still held, revoked if it is open. The password is checked in a read
    transaction, so that writers never wait for scrypt."""
    now = datetime.now(UTC)
    limits = throttle_policy(rt.settings)
    keys = throttle.keys_for(email, client, limits)
    with transaction(rt.read_sessions) as session:
        _refuse_if_locked(throttle.locked_until(session, keys, now=now), now)
        actor = identity.authenticate_password(session, email, password)
        account_id = None
        if actor is None:
            account_id = session.scalars(
                select(User.id).where(User.email == email.strip().lower())
            ).first()
    with transaction(rt.sessions) as session:
        if actor is not None:
            if replacing:
                sessions.revoke_token(session, replacing, reason="replaced", now=now)
            throttle.clear(session, keys[0])
            issued = sessions.create(
                session,
                user_id=actor.user_id,
                now=now,
                policy=session_policy(rt.settings),
                client=client,
                user_agent=user_agent,
            )
            audit.append(
                session, action="auth.login", actor_id=actor.user_id, actor=actor.email,
                payload={"session_id": issued.id, "client": _client(client)},
            )  # fmt: skip
            return LoggedIn(actor=actor, session=issued)
        audit.append(
            session,
            action="auth.login_failed",
            actor_id=None,
            actor="anonymous",
            payload={
                "login": attempted_login(email),
                "account_id": account_id,
                "client": _client(client),
            },
        )
        for lock in throttle.record_failure(session, keys, now=now, policy=limits):
            _audit_lockout(session, lock, login_name=email, client=client, account_id=account_id)
    return None


def _client(client: str | None) -> str | None:
    return _cut(client, CLIENT_LIMIT) if client else None


def _audit_lockout(
    session: Session,
    lock: throttle.Lockout,
    *,
    login_name: str,
    client: str | None,
    account_id: int | None,
) -> None:
    payload: dict[str, object] = {
        "scope": lock.scope,
        "failures": lock.failures,
        "until": lock.until.isoformat(),
    }
    if lock.scope == "account":
        payload.update(login=attempted_login(login_name), account_id=account_id)
    else:
        payload["client"] = _client(client)
    audit.append(
        session, action="auth.login_locked", actor_id=None, actor="system", payload=payload
    )


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


def resolve_session(rt: Runtime, token: str) -> ResolvedSession | None:
    """The active session of a cookie's value and its actor (one indexed lookup), or None.
    Its ``last_seen_at`` is moved forward when it is a minute old or more."""
    now = datetime.now(UTC)
    with transaction(rt.read_sessions) as session:
        resolved = sessions.resolve(session, token, now=now, policy=session_policy(rt.settings))
    if resolved is not None and sessions.needs_touch(resolved, now):
        with transaction(rt.sessions) as session:
            sessions.touch(session, resolved.id, now=now)
    return resolved


def logout(rt: Runtime, *, actor: Actor, session_id: int) -> None:
    """End the caller's session, for every app server."""
    now = datetime.now(UTC)
    with transaction(rt.sessions) as session:
        ended = sessions.revoke_all(
            session, user_id=actor.user_id, reason="logout", now=now, only_id=session_id
        )
        if ended:
            audit.append(
                session, action="auth.logout", actor_id=actor.user_id, actor=actor.email,
                payload={"session_id": session_id},
            )  # fmt: skip


def change_password(
    rt: Runtime,
    *,
    actor: Actor,
    session_id: int,
    current: str,
    new: str,
    client: str | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    """Set a new password and end every session of the person; the caller's own goes on
    under a new value (returned). A wrong current password counts as a failed login on
    the account (the throttle), so that a stolen session cannot guess it at leisure."""
    now = datetime.now(UTC)
    limits = throttle_policy(rt.settings)
    key = throttle.account_key(actor.email, limits)
    with transaction(rt.read_sessions) as session:
        _refuse_if_locked(throttle.locked_until(session, [key], now=now), now)
        user = session.get(User, actor.user_id)
        if user is None or not user.is_active:
            raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=actor.user_id)
        right = identity.check_password(current, user.password_hash)
    if not right:
        with transaction(rt.sessions) as session:
            audit.append(
                session, action="auth.password_change_failed", actor_id=actor.user_id,
                actor=actor.email, payload={"session_id": session_id},
            )  # fmt: skip
            for lock in throttle.record_failure(session, [key], now=now, policy=limits):
                _audit_lockout(
                    session, lock, login_name=actor.email, client=None, account_id=actor.user_id
                )
        raise InvalidInput("current_password", ErrorCode.CURRENT_PASSWORD_WRONG)
    check_new_password(new, current=current, email=actor.email)
    password_hash = identity.hash_password(new)  # outside the write transaction: scrypt
    with transaction(rt.sessions) as session:
        user = session.get(User, actor.user_id)
        if user is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=actor.user_id)
        user.password_hash = password_hash
        ended = sessions.revoke_all(
            session, user_id=actor.user_id, reason="password_changed", now=now
        )
        issued = sessions.create(
            session,
            user_id=actor.user_id,
            now=now,
            policy=session_policy(rt.settings),
            client=client,
            user_agent=user_agent,
        )
        throttle.clear(session, key)
        audit.append(
            session, action="auth.password_changed", actor_id=actor.user_id, actor=actor.email,
            payload={"sessions_ended": len(ended), "session_id": issued.id},
        )  # fmt: skip
    return issued


def _require_session_admin(actor: Actor) -> None:
    if not actor.has_chamber_role(Role.ADMIN):
        raise NotPermitted(ErrorCode.SESSIONS_NEED_CHAMBER_ADMIN)


def list_sessions(rt: Runtime, *, actor: Actor, user_id: int) -> list[SessionInfo]:
    """A person's sessions that have not expired (ended ones too), for an e-Izba admin."""
    _require_session_admin(actor)
    now = datetime.now(UTC)
    with transaction(rt.read_sessions) as session:
        if session.get(User, user_id) is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=user_id)
        return sessions.list_for_user(
            session, user_id=user_id, now=now, policy=session_policy(rt.settings)
        )


def end_sessions(
    rt: Runtime, *, actor: Actor, user_id: int, session_id: int | None = None
) -> list[int]:
    """An e-Izba admin ends a person's open sessions (or one of them); their ids."""
    _require_session_admin(actor)
    now = datetime.now(UTC)
    with transaction(rt.sessions) as session:
        if session.get(User, user_id) is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=user_id)
        if session_id is not None:
            row = session.get(LoginSession, session_id)
            if row is None or row.user_id != user_id:
                raise NotFound(ErrorCode.SESSION_NOT_FOUND, session_id=session_id)
        ended = sessions.revoke_all(
            session, user_id=user_id, reason="admin", now=now, only_id=session_id
        )
        audit.append(
            session, action="auth.sessions_ended", actor_id=actor.user_id, actor=actor.email,
            payload={"user_id": user_id, "session_ids": ended},
        )  # fmt: skip
    return ended


def purge_expired(rt: Runtime, *, keep: timedelta = timedelta(days=30)) -> tuple[int, int]:
    """Remove sessions whose absolute end is more than ``keep`` ago, and throttle keys
    whose window and lock have passed; (sessions, keys) removed. For a scheduled job."""
    now = datetime.now(UTC)
    with transaction(rt.sessions) as session:
        result = session.execute(delete(LoginSession).where(LoginSession.expires_at < now - keep))
        keys = throttle.purge(session, now=now, policy=throttle_policy(rt.settings))
    return int(getattr(result, "rowcount", 0) or 0), keys


def issue_token(rt: Runtime, *, actor: Actor, name: str) -> IssuedToken:
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("name", ErrorCode.TEXT_REQUIRED, max_length=120)
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
