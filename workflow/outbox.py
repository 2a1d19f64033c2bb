"""The transactional outbox: write the effects of a change in its own transaction.

A use-case that changes state calls :func:`add` in the transaction of the change and its
audit record, so an effect exists exactly when the change committed: a rolled-back change
sends nothing. After commit the dispatcher (``workflow.jobs.dispatch``) hands each row to the
job queue and marks it dispatched; a periodic sweep hands over rows a crash left between
commit and hand-over. Delivery is at least once, so every handler is idempotent: it
:func:`claim`\\ s its row in the transaction of its result, and a second run finds it done.

This module sits in the core (models, db, states): the areas that change state import it;
it knows nothing of the queue. The dispatcher of a process registers itself on a session
factory with :func:`set_waker`; every commit that wrote an effect then wakes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from workflow.db import on_commit
from workflow.models import OutboxEntry
from workflow.states import Effect

_WAKER = "estrategia.outbox_waker"


def set_waker(factory: sessionmaker[Session], wake: Callable[[], None] | None) -> None:
    """Call ``wake`` after every commit, in sessions of ``factory``, that wrote an effect
    (None: stop). Sessions opened before keep what they had."""
    info = dict(factory.kw.get("info", {}))
    if wake is None:
        info.pop(_WAKER, None)
    else:
        info[_WAKER] = wake
    factory.kw["info"] = info


def add(
    session: Session,
    effects: Iterable[Effect],
    *,
    document_id: int | None,
    version_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> list[OutboxEntry]:
    """Write one outbox row per effect in the caller's transaction (it commits or rolls
    back with it). ``payload`` is what the handler needs, fixed now: the event, the
    version, a signatory's position..."""
    rows = [
        OutboxEntry(
            effect=effect,
            document_id=document_id,
            version_id=version_id,
            payload=dict(payload or {}),
        )
        for effect in effects
    ]
    if not rows:
        return rows
    session.add_all(rows)
    session.flush()
    wake = session.info.get(_WAKER)
    if wake is not None:
        on_commit(session, wake)  # waking twice is harmless: it only sets a flag
    return rows


def claim(session: Session, entry_id: int) -> bool:
    """Mark the row done in the caller's transaction; False if a previous run did (then the
    caller does nothing: the work committed with that run)."""
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == entry_id, OutboxEntry.completed_at.is_(None))
        .values(completed_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
