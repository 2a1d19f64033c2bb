"""The login throttle, kept in the database so that it holds across app servers.

Failed logins are counted per *key* in a window: one key per account (the login name
typed, lower-cased, whether an account has it or not, so that the answer does not tell
which names exist) and one per client address. When a key reaches its limit within the
window it is locked for the cool-down: every login on it is refused (HTTP 429 with
``Retry-After``) before any password is checked. Keys are stored as SHA-256, so the table
holds neither login names nor addresses.

- ``locked_until`` is the check made before each attempt: one primary-key lookup.
- ``record_failure`` is one upsert per key (INSERT ... ON CONFLICT DO UPDATE ... RETURNING,
  SQLite and PostgreSQL alike), atomic across processes: it starts a new window when the
  old one has passed, counts the failure and locks the key when it reaches its limit. It
  returns the keys this failure locked, which the caller records in the audit trail.
- A successful login clears its account's key (not its address's: one good password must
  not buy an address more guesses at other accounts).

Attempts that race past the check at the same moment are all counted, so a limit of N
lets through at most N plus the number of attempts in flight at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.models import LoginThrottle, UTCDateTime


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    """Per account."""
    max_failures_per_client: int
    window: timedelta
    lockout: timedelta


@dataclass(frozen=True)
class ThrottleKey:
    scope: str
    """"account" or "client"."""
    key: str
    limit: int


@dataclass(frozen=True)
class Lockout:
    scope: str
    failures: int
    until: datetime


def _key(scope: str, value: str) -> str:
    return f"{scope}:" + hashlib.sha256(value.encode()).hexdigest()


def account_key(login_name: str, policy: ThrottlePolicy) -> ThrottleKey:
    return ThrottleKey("account", _key("account", login_name.strip().lower()), policy.max_failures)


def keys_for(login_name: str, client: str | None, policy: ThrottlePolicy) -> list[ThrottleKey]:
    keys = [account_key(login_name, policy)]
    if client:
        keys.append(ThrottleKey("client", _key("client", client), policy.max_failures_per_client))
    return keys


def locked_until(session: Session, keys: list[ThrottleKey], *, now: datetime) -> datetime | None:
    """The end of the latest lock on any of ``keys``, or None if none is locked."""
    until: datetime | None = session.scalar(
        select(func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.key.in_([k.key for k in keys]), LoginThrottle.locked_until > now
        )
    )
    return until


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, type_=UTCDateTime())


def record_failure(
    session: Session, keys: list[ThrottleKey], *, now: datetime, policy: ThrottlePolicy
) -> list[Lockout]:
    """Count one failed login on each key; the lockouts this failure caused."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    table = LoginThrottle.__table__
    window_over = table.c.window_started_at <= _at(now - policy.window)
    failures = case((window_over, 1), else_=table.c.failures + 1)
    window_start = case((window_over, _at(now)), else_=table.c.window_started_at)
    lockouts = []
    for k in keys:
        statement = (
            insert(LoginThrottle)
            .values(
                key=k.key,
                failures=1,
                window_started_at=now,
                locked_until=now + policy.lockout if k.limit <= 1 else None,
            )
            .on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "failures": failures,
                    "window_started_at": window_start,
                    "locked_until": case(
                        (failures >= k.limit, _at(now + policy.lockout)),
                        else_=table.c.locked_until,
                    ),
                },
            )
            .returning(LoginThrottle.failures, LoginThrottle.locked_until)
        )
        row = session.execute(statement).one()
        if row.failures >= k.limit and row.locked_until is not None and row.locked_until > now:
            lockouts.append(Lockout(scope=k.scope, failures=row.failures, until=row.locked_until))
    return lockouts


def clear(session: Session, key: ThrottleKey) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key.key))


def purge(session: Session, *, now: datetime, policy: ThrottlePolicy) -> int:
    """Remove keys whose window and lock have both passed; how many."""
    result = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.window_started_at <= now - policy.window,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until <= now),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
