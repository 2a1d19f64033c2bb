"""The outbox dispatcher: hand each effect written by a committed change to the job queue.

``dispatch_pending`` reads the rows not handed over yet, defers one job per row (its
``dedup_key`` is the row's id) and then marks them dispatched. It defers outside any
transaction of ours: on SQLite the queue's tables are in the same file, and a write lock
held while deferring would wait for itself. A crash between the defer and the mark leaves
the row to the next sweep, which defers it again: the queue drops the duplicate while the
first job still waits (its queueing lock), and every handler is idempotent anyway (it
claims its row, ``workflow.outbox.claim``). Delivery is at least once.

Two things run it:

- the :class:`Dispatcher` thread of a process, woken after every commit that wrote an
  effect (``outbox.set_waker``), so that work starts a few milliseconds after the change;
- the periodic job ``outbox.dispatch`` (every minute, on whichever worker takes it): the
  sweep for rows that a process left behind when it died between its commit and the
  hand-over, or wrote without a dispatcher running.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from workflow import outbox
from workflow.db import transaction
from workflow.jobs.registry import JobContext, defer, job
from workflow.models import OutboxEntry
from workflow.runtime import Runtime
from workflow.states import Effect

log = logging.getLogger(__name__)

#: The job that carries out each kind of effect (its only argument: ``entry_id``).
JOB_OF: Mapping[Effect, str] = {
    Effect.RENDER_PDF: "documents.render_pdf",
    Effect.NOTIFY_REVIEWERS: "notifications.notify",
    Effect.NOTIFY_AUTHORS: "notifications.notify",
    Effect.NOTIFY_NEXT_SIGNATORY: "notifications.notify",
    Effect.NOTIFY_ALL_SIGNED: "notifications.notify",
    Effect.ANCHOR_AUDIT: "audit.anchor",
    Effect.INDEX_DOCUMENT: "search.index_document",
}

BATCH = 200
SWEEP_AFTER = timedelta(seconds=30)


def dispatch_pending(
    rt: Runtime, *, limit: int = BATCH, older_than: timedelta | None = None
) -> int:
    """Hand every row not yet dispatched (up to ``limit``, oldest first; only those written
    at least ``older_than`` ago if given) to the queue and mark it; the number handed over.
    A row whose defer fails stays for the next sweep."""
    import workflow.jobs.handlers  # noqa: F401  # registers the jobs of JOB_OF

    query = select(OutboxEntry.id, OutboxEntry.effect).where(OutboxEntry.dispatched_at.is_(None))
    if older_than is not None:
        query = query.where(OutboxEntry.created_at <= datetime.now(UTC) - older_than)
    with transaction(rt.read_sessions) as session:
        rows = session.execute(query.order_by(OutboxEntry.id).limit(limit)).all()
    handed: dict[int, int] = {}
    for entry_id, effect in rows:
        name = JOB_OF.get(effect)
        if name is None:
            log.warning("outbox entry %s: no job carries out %r yet", entry_id, effect)
            continue
        try:
            handed[entry_id] = defer(
                rt, name, args={"entry_id": entry_id}, dedup_key=f"outbox:{entry_id}"
            )
        except Exception:  # the queue is down: the row waits for the next sweep
            log.exception("outbox entry %s: could not hand it to the queue", entry_id)
    if handed:
        now = datetime.now(UTC)
        with transaction(rt.sessions) as session:
            for entry_id, job_id in handed.items():
                session.execute(
                    update(OutboxEntry)
                    .where(OutboxEntry.id == entry_id, OutboxEntry.dispatched_at.is_(None))
                    .values(dispatched_at=now, job_id=job_id)
                    .execution_options(synchronize_session=False)
                )
    return len(handed)


class Dispatcher:
    """A thread that dispatches when a commit wrote an effect, and every ``sweep_s``.

    ``start`` registers it on the runtime's write sessions; ``stop`` unregisters it and
    waits for the thread. One per process that writes (app server, worker)."""

    def __init__(self, rt: Runtime, *, sweep_s: float = 30.0) -> None:
        self.rt = rt
        self.sweep_s = sweep_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> Dispatcher:
        if self._thread is None:
            outbox.set_waker(self.rt.sessions, self.wake)
            self._thread = threading.Thread(target=self._run, name="outbox-dispatcher", daemon=True)
            self._thread.start()
            self.wake()  # rows written before this process started
        return self

    def close(self) -> None:
        self.stop()

    def stop(self, timeout: float = 10.0) -> None:
        outbox.set_waker(self.rt.sessions, None)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.sweep_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                while dispatch_pending(self.rt) == BATCH:
                    pass  # more than one batch waits
            except Exception:  # the database is away: try again at the next wake or sweep
                log.exception("outbox dispatch failed")


@job("outbox.dispatch", retries=0, time_limit_s=300, cron="* * * * *")
def sweep(ctx: JobContext) -> None:
    """The periodic sweep: rows that no dispatcher handed over (see the module docstring)."""
    # Rows younger than this are their process's dispatcher's to hand over.
    while dispatch_pending(ctx.rt, older_than=SWEEP_AFTER) == BATCH and not ctx.should_stop():
        pass


_ATTACHMENT = "workflow.jobs.dispatch"


def start_dispatcher(rt: Runtime, *, sweep_s: float = 30.0) -> Dispatcher:
    """The runtime's dispatcher, started on first call and stopped when the runtime closes
    (an app server calls this; workers need none: they run the ``outbox.dispatch`` sweep)."""
    found = rt.attachments.get(_ATTACHMENT)
    if isinstance(found, Dispatcher):
        return found
    dispatcher = rt.attachments[_ATTACHMENT] = Dispatcher(rt, sweep_s=sweep_s)
    return dispatcher.start()
