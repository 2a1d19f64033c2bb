"""Progress and errors of jobs, in our own ``job_progress`` table keyed by procrastinate's
job id: procrastinate keeps a status but neither progress nor the error of a failed job.

The worker writes (``start``, ``report``, ``finish``) through the application's engine, in
short transactions of their own; ``estrategia jobs`` reads (``load``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from workflow.models.base import utcnow
from workflow.models.jobs import JobProgress

_MESSAGE_MAX = 500
_THROTTLE_S = 0.2


def start(engine: Engine, *, job_id: int, task_name: str, attempt: int) -> None:
    """A new attempt: the row is made or reset (progress kept, error cleared)."""
    now = utcnow()
    values = {
        "job_id": job_id,
        "task_name": task_name,
        "attempt": attempt,
        "done": 0,
        "total": None,
        "message": "",
        "error": None,
        "started_at": now,
        "updated_at": now,
        "finished_at": None,
    }
    with engine.begin() as conn:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(JobProgress).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["job_id"],
            set_={
                "attempt": attempt,
                "error": None,
                "started_at": now,
                "updated_at": now,
                "finished_at": None,
            },
        )
        conn.execute(stmt)


def report(engine: Engine, job_id: int, done: int, total: int | None, message: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(JobProgress)
            .where(JobProgress.job_id == job_id)
            .values(done=done, total=total, message=message[:_MESSAGE_MAX], updated_at=utcnow())
        )


def finish(engine: Engine, job_id: int, *, error: str | None) -> None:
    """The attempt ended: ``error`` is ``None`` on success, else ``Type: message``."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            update(JobProgress)
            .where(JobProgress.job_id == job_id)
            .values(error=error, updated_at=now, finished_at=now)
        )


def note_error(engine: Engine, job_id: int, task_name: str, error: str) -> None:
    """Record an error for a job that may have no row yet (a stalled job's lost worker)."""
    now = utcnow()
    with engine.begin() as conn:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(JobProgress).values(
            job_id=job_id, task_name=task_name, attempt=1, done=0, total=None, message="",
            error=error, started_at=now, updated_at=now, finished_at=now,
        )  # fmt: skip
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["job_id"], set_={"error": error, "updated_at": now}
            )
        )


def load(engine: Engine, job_ids: Iterable[int]) -> dict[int, JobProgress]:
    ids = list(job_ids)
    if not ids:
        return {}
    out: dict[int, JobProgress] = {}
    with engine.connect() as conn:
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            for row in conn.execute(select(JobProgress).where(JobProgress.job_id.in_(chunk))):
                p = JobProgress(**row._mapping)
                out[p.job_id] = p
    return out


class ThrottledSink:
    """What ``JobContext.progress`` calls: writes at most every 0.2 s (a batch of thousands
    of items costs a few writes a second); ``flush`` writes the last value."""

    def __init__(self, engine: Engine, job_id: int) -> None:
        self._engine = engine
        self._job_id = job_id
        self._last_write = 0.0
        self._pending: tuple[int, int | None, str] | None = None
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int | None, message: str) -> None:
        with self._lock:
            self._pending = (done, total, message)
            now = time.monotonic()
            if now - self._last_write < _THROTTLE_S and not (total is not None and done >= total):
                return
            self._last_write = now
            pending, self._pending = self._pending, None
        report(self._engine, self._job_id, *pending)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            report(self._engine, self._job_id, *pending)


def age_s(moment: datetime) -> float:
    return (utcnow() - moment).total_seconds()
