"""The queries of procrastinate 3.10 (``procrastinate/sql/queries.sql``) in SQLite.

One method of ``Queries`` per query, named after it and taking its parameters, doing what
the PostgreSQL query and the PL/pgSQL function it calls do (the function is named above
each method); ``sqlite_connector`` opens the transaction around it (``BEGIN IMMEDIATE``
for the names in ``WRITES``) and sends the notifications it collects once committed.
Timestamps are compared as text of one shape (``sqlite_schema``).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from procrastinate import exceptions, manager, types

Row = dict[str, Any]
# A notification to send once the transaction that caused it has committed:
# (queue name, {"type": "job_inserted" | "abort_job_requested", "job_id": id}).
Notice = tuple[str, dict[str, Any]]

_JOB_COLUMNS = (
    "id, status, task_name, priority, lock, queueing_lock, args, scheduled_at,"
    " queue_name, attempts, worker_id"
)
_LIST_COLUMNS = _JOB_COLUMNS + ", abort_requested"
_FINAL_STATUSES = ("succeeded", "failed", "aborted")


def _timestamp(moment: dt.datetime) -> str:
    """The stored shape of a time: UTC, always with microseconds, so text order is time
    order (``isoformat`` drops a zero fraction)."""
    if moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _now(minus_seconds: float = 0.0) -> str:
    return _timestamp(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=minus_seconds))


def _parse_timestamp(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


# Queries that write take the write lock at BEGIN, so that what they read stays true.
WRITES = frozenset(
    {
        "defer_jobs",
        "defer_periodic_job",
        "fetch_job",
        "delete_old_jobs",
        "finish_job",
        "cancel_job",
        "retry_job",
        "register_worker",
        "unregister_worker",
        "update_heartbeat",
        "prune_stalled_workers",
    }
)


@dataclass
class Queries:
    """One method per query of procrastinate's ``queries.sql``, named after it, taking its
    parameters; each runs inside a transaction opened by the caller and returns rows."""

    conn: sqlite3.Connection
    notices: list[Notice]
    dumps: Callable[[Any], str] = json.dumps
    loads: Callable[[str], Any] = json.loads

    def _rows(self, statement: str, parameters: Sequence[Any] = ()) -> list[Row]:
        cursor = self.conn.execute(statement, parameters)
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _job_row(self, row: Row) -> Row:
        row["args"] = self.loads(row["args"])
        row["scheduled_at"] = _parse_timestamp(row["scheduled_at"])
        if "abort_requested" in row:
            row["abort_requested"] = bool(row["abort_requested"])
        return row

    def _insert_job(self, job: types.JobToDefer) -> int:
        try:
            cursor = self.conn.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock,"
                " queueing_lock, args, scheduled_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    job.queue_name,
                    job.task_name,
                    job.priority,
                    job.lock,
                    job.queueing_lock,
                    self.dumps(job.args),
                    None if job.scheduled_at is None else _timestamp(job.scheduled_at),
                ),
            )
        except sqlite3.IntegrityError as exc:
            if "procrastinate_jobs.queueing_lock" in str(exc):
                raise exceptions.UniqueViolation(
                    str(exc),
                    constraint_name=manager.QUEUEING_LOCK_CONSTRAINT,
                    queueing_lock=job.queueing_lock,
                ) from exc
            raise
        job_id = cursor.lastrowid
        if job_id is None:  # pragma: no cover  # sqlite3 sets it after an INSERT
            raise exceptions.ConnectorException("the job got no id")
        self.notices.append((job.queue_name, {"type": "job_inserted", "job_id": job_id}))
        return job_id

    # procrastinate_defer_jobs_v1: all or none (a queueing_lock conflict rolls back all)
    def defer_jobs(self, jobs: list[types.JobToDefer]) -> list[Row]:
        return [{"id": self._insert_job(types.JobToDefer(*job))} for job in jobs]

    # procrastinate_defer_periodic_job_v2
    def defer_periodic_job(
        self,
        queue: str,
        lock: str | None,
        queueing_lock: str | None,
        task_name: str,
        priority: int,
        periodic_id: str,
        defer_timestamp: int,
        args: types.JSONDict,
    ) -> list[Row]:
        inserted = self.conn.execute(
            "INSERT INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp)"
            " VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            (task_name, periodic_id, defer_timestamp),
        ).fetchone()
        if inserted is None:
            return [{"id": None}]
        job_id = self._insert_job(
            types.JobToDefer(queue, task_name, priority, lock, queueing_lock, args, None)
        )
        self.conn.execute(
            "UPDATE procrastinate_periodic_defers SET job_id = ? WHERE id = ?",
            (job_id, inserted[0]),
        )
        self.conn.execute(
            "DELETE FROM procrastinate_periodic_defers"
            " WHERE task_name = ? AND periodic_id = ? AND defer_timestamp < ?",
            (task_name, periodic_id, defer_timestamp),
        )
        return [{"id": job_id}]

    # procrastinate_fetch_job_v2: under BEGIN IMMEDIATE no other writer runs between the
    # SELECT and the UPDATE (PostgreSQL: FOR UPDATE SKIP LOCKED).
    def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> list[Row]:
        queue_names = None if queues is None else list(queues)
        queue_filter = ""
        if queue_names is not None:
            queue_filter = f"AND jobs.queue_name IN ({', '.join('?' * len(queue_names))})"
        candidate = self.conn.execute(
            f"""
            SELECT jobs.id FROM procrastinate_jobs AS jobs
             WHERE jobs.status = 'todo'
               {queue_filter}
               AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= ?)
               AND NOT EXISTS (
                   SELECT 1 FROM procrastinate_jobs AS other_jobs
                    WHERE jobs.lock IS NOT NULL
                      AND other_jobs.lock = jobs.lock
                      AND (other_jobs.status = 'doing'
                           OR (other_jobs.status = 'todo'
                               AND (other_jobs.priority > jobs.priority
                                    OR (other_jobs.priority = jobs.priority
                                        AND other_jobs.id < jobs.id)))))
             ORDER BY jobs.priority DESC, jobs.id ASC
             LIMIT 1""",  # noqa: S608  # only '?' placeholders are formatted in
            [*(queue_names or ()), _now()],
        ).fetchone()
        if candidate is None:
            return [dict.fromkeys(_JOB_COLUMNS.split(", "))]
        rows = self._rows(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = ?"  # noqa: S608  # column names only
            f" WHERE id = ? RETURNING {_JOB_COLUMNS}",
            (worker_id, candidate[0]),
        )
        return [self._job_row(row) for row in rows]

    def select_stalled_jobs_by_started(
        self, nb_seconds: float, queue: str | None, task_name: str | None
    ) -> list[Row]:
        rows = self._rows(
            f"""
            SELECT {", ".join("job." + c for c in _JOB_COLUMNS.split(", "))},
                   MAX(event.at) AS started_at
              FROM procrastinate_jobs AS job
              JOIN procrastinate_events AS event ON event.job_id = job.id
             WHERE event.type = 'started' AND job.status = 'doing'
               AND (? IS NULL OR job.queue_name = ?)
               AND (? IS NULL OR job.task_name = ?)
             GROUP BY job.id
            HAVING MAX(event.at) < ?""",  # noqa: S608  # column names only
            (queue, queue, task_name, task_name, _now(float(nb_seconds))),
        )
        for row in rows:
            row["started_at"] = _parse_timestamp(row["started_at"])
        return [self._job_row(row) for row in rows]

    def select_stalled_jobs_by_heartbeat(
        self, queue: str | None, task_name: str | None, seconds_since_heartbeat: float
    ) -> list[Row]:
        rows = self._rows(
            f"""
            SELECT {", ".join("job." + c for c in _JOB_COLUMNS.split(", "))}
              FROM procrastinate_jobs AS job
              LEFT JOIN procrastinate_workers AS worker ON worker.id = job.worker_id
             WHERE job.status = 'doing'
               AND (? IS NULL OR job.queue_name = ?)
               AND (? IS NULL OR job.task_name = ?)
               AND (job.worker_id IS NULL OR worker.id IS NULL
                    OR worker.last_heartbeat < ?)
             ORDER BY job.id""",  # noqa: S608  # column names only
            (queue, queue, task_name, task_name, _now(float(seconds_since_heartbeat))),
        )
        return [self._job_row(row) for row in rows]

    def delete_old_jobs(self, nb_hours: float, queue: str | None, statuses: list[str]) -> list[Row]:
        marks = ", ".join("?" * len(statuses))
        old = f"""
            SELECT job.id FROM procrastinate_jobs AS job
              JOIN procrastinate_events AS event ON event.job_id = job.id
             WHERE job.status IN ({marks}) AND (? IS NULL OR job.queue_name = ?)
             GROUP BY job.id HAVING MAX(event.at) < ?"""  # noqa: S608  # only '?' marks
        parameters = (*statuses, queue, queue, _now(float(nb_hours) * 3600))
        ids = [row[0] for row in self.conn.execute(old, parameters)]
        for job_id in ids:
            self._delete_job(job_id)
        return []

    def _delete_job(self, job_id: int) -> None:
        # What the foreign keys do, spelled out for a connection without foreign_keys=ON
        # (procrastinate_unlink_periodic_defers_v1 and ON DELETE CASCADE on PostgreSQL).
        self.conn.execute(
            "UPDATE procrastinate_periodic_defers SET job_id = NULL WHERE job_id = ?", (job_id,)
        )
        self.conn.execute("DELETE FROM procrastinate_events WHERE job_id = ?", (job_id,))
        self.conn.execute("DELETE FROM procrastinate_jobs WHERE id = ?", (job_id,))

    # procrastinate_finish_job_v1
    def finish_job(self, job_id: int, status: str, delete_job: bool) -> list[Row]:
        if status not in _FINAL_STATUSES:
            raise exceptions.ConnectorException(
                f'End status should be either "succeeded", "failed" or "aborted" (job id: {job_id})'
            )
        found = self.conn.execute(
            "SELECT status FROM procrastinate_jobs WHERE id = ? AND status IN ('todo', 'doing')",
            (job_id,),
        ).fetchone()
        if found is None:
            raise exceptions.ConnectorException(
                f'Job was not found or not in "doing" or "todo" status (job id: {job_id})'
            )
        if delete_job:
            self._delete_job(job_id)
        else:
            self.conn.execute(
                "UPDATE procrastinate_jobs SET status = ?, abort_requested = 0,"
                " attempts = CASE status WHEN 'doing' THEN attempts + 1 ELSE attempts END"
                " WHERE id = ?",
                (status, job_id),
            )
        return []

    # procrastinate_cancel_job_v1
    def cancel_job(self, job_id: int, abort: bool, delete_job: bool) -> list[Row]:
        found = self.conn.execute(
            "SELECT status, abort_requested, queue_name FROM procrastinate_jobs WHERE id = ?",
            (job_id,),
        ).fetchone()
        status, abort_requested, queue_name = found if found is not None else (None, 0, "")
        if delete_job and status == "todo":
            self._delete_job(job_id)
            return [{"id": job_id}]
        if status == "todo":
            self.conn.execute(
                "UPDATE procrastinate_jobs SET status = 'cancelled', abort_requested = ?"
                " WHERE id = ?",
                (int(abort), job_id),
            )
            return [{"id": job_id}]
        if status == "doing" and abort:
            self.conn.execute(
                "UPDATE procrastinate_jobs SET abort_requested = 1 WHERE id = ?", (job_id,)
            )
            if not abort_requested:  # procrastinate_notify_queue_abort_job_v1
                self.notices.append((queue_name, {"type": "abort_job_requested", "job_id": job_id}))
            return [{"id": job_id}]
        return [{"id": None}]

    def get_job_status(self, job_id: int) -> list[Row]:
        return self._rows("SELECT status FROM procrastinate_jobs WHERE id = ?", (job_id,))

    # procrastinate_retry_job_v2
    def retry_job(
        self,
        job_id: int,
        retry_at: dt.datetime | None,
        new_priority: int | None,
        new_queue_name: str | None,
        new_lock: str | None,
    ) -> list[Row]:
        found = self.conn.execute(
            "SELECT status, abort_requested FROM procrastinate_jobs"
            " WHERE id = ? AND status IN ('doing', 'failed')",
            (job_id,),
        ).fetchone()
        if found is None:
            raise exceptions.ConnectorException(
                f"Job was not found or has an invalid status to retry (job id: {job_id})"
            )
        if found[0] == "doing" and found[1]:
            self.conn.execute(
                "UPDATE procrastinate_jobs SET status = 'failed' WHERE id = ?", (job_id,)
            )
        else:
            self.conn.execute(
                "UPDATE procrastinate_jobs SET status = 'todo', attempts = attempts + 1,"
                " scheduled_at = ?, priority = COALESCE(?, priority),"
                " queue_name = COALESCE(?, queue_name), lock = COALESCE(?, lock)"
                " WHERE id = ?",
                (
                    None if retry_at is None else _timestamp(retry_at),
                    new_priority,
                    new_queue_name,
                    new_lock,
                    job_id,
                ),
            )
        return []

    def check_connection(self) -> list[Row]:
        found = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'procrastinate_jobs'"
        ).fetchone()
        return [{"check": None if found is None else found[0]}]

    def count_jobs_status(self) -> list[Row]:
        return self._rows(
            "SELECT count(*) AS count, status FROM procrastinate_jobs GROUP BY status"
        )

    def list_jobs(
        self,
        id: int | None,
        queue_name: str | None,
        task_name: str | None,
        status: str | None,
        lock: str | None,
        queueing_lock: str | None,
        worker_id: int | None,
    ) -> list[Row]:
        filters = {
            "id": id,
            "queue_name": queue_name,
            "task_name": task_name,
            "status": status,
            "lock": lock,
            "queueing_lock": queueing_lock,
            "worker_id": worker_id,
        }
        where = " AND ".join(f"(? IS NULL OR {column} = ?)" for column in filters)
        parameters = [value for value in filters.values() for _ in range(2)]
        rows = self._rows(
            f"SELECT {_LIST_COLUMNS} FROM procrastinate_jobs WHERE {where} ORDER BY id",  # noqa: S608  # column names only
            parameters,
        )
        return [self._job_row(row) for row in rows]

    def _stats(
        self,
        group_by: str,
        queue_name: str | None,
        task_name: str | None,
        status: str | None,
        lock: str | None,
    ) -> list[Row]:
        """list_queues, list_tasks, list_locks: per name, the job count and the count
        of each status present."""
        counts = self.conn.execute(
            f"""
            SELECT {group_by}, status, count(*) FROM procrastinate_jobs
             WHERE (? IS NULL OR queue_name = ?) AND (? IS NULL OR task_name = ?)
               AND (? IS NULL OR status = ?) AND (? IS NULL OR lock = ?)
               AND (? != 'lock' OR lock IS NOT NULL)
             GROUP BY {group_by}, status ORDER BY {group_by}""",  # noqa: S608  # a column name
            (queue_name, queue_name, task_name, task_name, status, status, lock, lock, group_by),
        ).fetchall()
        result: dict[str, Row] = {}
        for name, job_status, count in counts:
            entry = result.setdefault(name, {"name": name, "jobs_count": 0, "stats": {}})
            entry["jobs_count"] += count
            entry["stats"][job_status] = count
        return list(result.values())

    def list_queues(self, **filters: Any) -> list[Row]:
        return self._stats("queue_name", **filters)

    def list_tasks(self, **filters: Any) -> list[Row]:
        return self._stats("task_name", **filters)

    def list_locks(self, **filters: Any) -> list[Row]:
        return self._stats("lock", **filters)

    def list_jobs_to_abort(self, queue_name: str | None) -> list[Row]:
        return self._rows(
            "SELECT id FROM procrastinate_jobs WHERE status = 'doing' AND abort_requested = 1"
            " AND (? IS NULL OR queue_name = ?)",
            (queue_name, queue_name),
        )

    def register_worker(self) -> list[Row]:
        return self._rows(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (?)"
            " RETURNING id AS worker_id",
            (_now(),),
        )

    def unregister_worker(self, worker_id: int) -> list[Row]:
        self.conn.execute(
            "UPDATE procrastinate_jobs SET worker_id = NULL WHERE worker_id = ?", (worker_id,)
        )
        self.conn.execute("DELETE FROM procrastinate_workers WHERE id = ?", (worker_id,))
        return []

    def update_heartbeat(self, worker_id: int) -> list[Row]:
        self.conn.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = ? WHERE id = ?",
            (_now(), worker_id),
        )
        return []

    def prune_stalled_workers(self, seconds_since_heartbeat: float) -> list[Row]:
        threshold = _now(float(seconds_since_heartbeat))
        self.conn.execute(
            "UPDATE procrastinate_jobs SET worker_id = NULL WHERE worker_id IN"
            " (SELECT id FROM procrastinate_workers WHERE last_heartbeat < ?)",
            (threshold,),
        )
        return self._rows(
            "DELETE FROM procrastinate_workers WHERE last_heartbeat < ? RETURNING id AS worker_id",
            (threshold,),
        )
