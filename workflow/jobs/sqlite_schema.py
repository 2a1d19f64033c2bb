"""procrastinate's tables on SQLite: the schema ``SQLiteConnector`` reads and writes.

The same tables, columns, constraints and triggers as procrastinate 3.10's
``procrastinate/sql/schema.sql``, translated: PostgreSQL enums become ``CHECK`` lists,
``jsonb`` is JSON text, booleans are 0/1, and every timestamp is UTC text of one fixed
shape, ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (so that text order is time order). The two
partial unique indexes keep their PostgreSQL names: no two ``todo`` jobs share a
``queueing_lock``, no two ``doing`` jobs share a ``lock``. The triggers write the
``procrastinate_events`` rows exactly when procrastinate's do. Its PL/pgSQL functions and
its LISTEN/NOTIFY have no SQLite equivalent: ``sqlite_connector`` does that work.

``create_schema`` creates them on a SQLite connection; the Alembic revision 0003 creates
the same ones (a frozen copy, compared by ``tests/jobs``) in the application's database.
"""

from __future__ import annotations

import sqlite3

# SQLite's clock, as text of the same shape as the Python-side timestamps (milliseconds,
# padded to microseconds).
NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')"

JOB_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")
EVENT_TYPES = (
    "deferred",
    "started",
    "deferred_for_retry",
    "failed",
    "succeeded",
    "cancelled",
    "abort_requested",
    "aborted",
    "scheduled",
    "retried",
)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


SCHEMA_STATEMENTS: tuple[str, ...] = (
    f"""
    CREATE TABLE procrastinate_workers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        last_heartbeat TEXT NOT NULL DEFAULT ({NOW_SQL})
    )""",
    f"""
    CREATE TABLE procrastinate_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_name VARCHAR(128) NOT NULL,
        task_name VARCHAR(128) NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        lock TEXT,
        queueing_lock TEXT,
        args TEXT NOT NULL DEFAULT '{{}}',
        status TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ({_in(JOB_STATUSES)})),
        scheduled_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        abort_requested INTEGER NOT NULL DEFAULT 0 CHECK (abort_requested IN (0, 1)),
        worker_id INTEGER REFERENCES procrastinate_workers (id) ON DELETE SET NULL,
        CONSTRAINT check_not_todo_abort_requested
            CHECK (NOT (status = 'todo' AND abort_requested = 1))
    )""",
    """
    CREATE TABLE procrastinate_periodic_defers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_name VARCHAR(128) NOT NULL,
        defer_timestamp INTEGER,
        job_id INTEGER REFERENCES procrastinate_jobs (id) ON DELETE SET NULL,
        periodic_id VARCHAR(128) NOT NULL DEFAULT '',
        CONSTRAINT procrastinate_periodic_defers_unique
            UNIQUE (task_name, periodic_id, defer_timestamp)
    )""",
    f"""
    CREATE TABLE procrastinate_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id INTEGER NOT NULL REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
        type TEXT CHECK (type IN ({_in(EVENT_TYPES)})),
        at TEXT DEFAULT ({NOW_SQL})
    )""",
    "CREATE UNIQUE INDEX procrastinate_jobs_queueing_lock_idx_v1"
    " ON procrastinate_jobs (queueing_lock) WHERE status = 'todo'",
    "CREATE UNIQUE INDEX procrastinate_jobs_lock_idx_v1"
    " ON procrastinate_jobs (lock) WHERE status = 'doing'",
    "CREATE INDEX idx_procrastinate_jobs_worker_not_null"
    " ON procrastinate_jobs (worker_id) WHERE worker_id IS NOT NULL AND status = 'doing'",
    "CREATE INDEX procrastinate_jobs_queue_name_idx_v1 ON procrastinate_jobs (queue_name)",
    "CREATE INDEX procrastinate_jobs_id_lock_idx_v1"
    " ON procrastinate_jobs (id, lock) WHERE status IN ('todo', 'doing')",
    "CREATE INDEX procrastinate_jobs_priority_idx_v1"
    " ON procrastinate_jobs (priority DESC, id ASC) WHERE status = 'todo'",
    "CREATE INDEX procrastinate_events_job_id_fkey_v1 ON procrastinate_events (job_id)",
    "CREATE INDEX procrastinate_periodic_defers_job_id_fkey_v1"
    " ON procrastinate_periodic_defers (job_id)",
    "CREATE INDEX idx_procrastinate_workers_last_heartbeat"
    " ON procrastinate_workers (last_heartbeat)",
    # procrastinate_trigger_status_events_insert_v1
    """
    CREATE TRIGGER procrastinate_trigger_status_events_insert_v1
    AFTER INSERT ON procrastinate_jobs FOR EACH ROW WHEN NEW.status = 'todo'
    BEGIN
        INSERT INTO procrastinate_events (job_id, type) VALUES (NEW.id, 'deferred');
    END""",
    # procrastinate_trigger_status_events_update_v1
    """
    CREATE TRIGGER procrastinate_trigger_status_events_update_v1
    AFTER UPDATE OF status ON procrastinate_jobs FOR EACH ROW
    WHEN (
        CASE
            WHEN OLD.status = 'todo' AND NEW.status = 'doing' THEN 'started'
            WHEN OLD.status = 'doing' AND NEW.status = 'todo' THEN 'deferred_for_retry'
            WHEN OLD.status = 'doing' AND NEW.status = 'failed' THEN 'failed'
            WHEN OLD.status = 'doing' AND NEW.status = 'succeeded' THEN 'succeeded'
            WHEN OLD.status = 'todo'
                AND NEW.status IN ('cancelled', 'failed', 'succeeded') THEN 'cancelled'
            WHEN OLD.status = 'doing' AND NEW.status = 'aborted' THEN 'aborted'
            WHEN OLD.status = 'failed' AND NEW.status = 'todo' THEN 'retried'
        END
    ) IS NOT NULL
    BEGIN
        INSERT INTO procrastinate_events (job_id, type) VALUES (
            NEW.id,
            CASE
                WHEN OLD.status = 'todo' AND NEW.status = 'doing' THEN 'started'
                WHEN OLD.status = 'doing' AND NEW.status = 'todo' THEN 'deferred_for_retry'
                WHEN OLD.status = 'doing' AND NEW.status = 'failed' THEN 'failed'
                WHEN OLD.status = 'doing' AND NEW.status = 'succeeded' THEN 'succeeded'
                WHEN OLD.status = 'todo'
                    AND NEW.status IN ('cancelled', 'failed', 'succeeded') THEN 'cancelled'
                WHEN OLD.status = 'doing' AND NEW.status = 'aborted' THEN 'aborted'
                WHEN OLD.status = 'failed' AND NEW.status = 'todo' THEN 'retried'
            END
        );
    END""",
    # procrastinate_trigger_scheduled_events_v1 (PostgreSQL: AFTER UPDATE OR INSERT)
    """
    CREATE TRIGGER procrastinate_trigger_scheduled_events_insert_v1
    AFTER INSERT ON procrastinate_jobs FOR EACH ROW
    WHEN NEW.scheduled_at IS NOT NULL AND NEW.status = 'todo'
    BEGIN
        INSERT INTO procrastinate_events (job_id, type, at)
        VALUES (NEW.id, 'scheduled', NEW.scheduled_at);
    END""",
    """
    CREATE TRIGGER procrastinate_trigger_scheduled_events_update_v1
    AFTER UPDATE ON procrastinate_jobs FOR EACH ROW
    WHEN NEW.scheduled_at IS NOT NULL AND NEW.status = 'todo'
    BEGIN
        INSERT INTO procrastinate_events (job_id, type, at)
        VALUES (NEW.id, 'scheduled', NEW.scheduled_at);
    END""",
    # procrastinate_trigger_abort_requested_events_v1
    """
    CREATE TRIGGER procrastinate_trigger_abort_requested_events_v1
    AFTER UPDATE OF abort_requested ON procrastinate_jobs FOR EACH ROW
    WHEN NEW.abort_requested = 1
    BEGIN
        INSERT INTO procrastinate_events (job_id, type) VALUES (NEW.id, 'abort_requested');
    END""",
)


def create_schema(connection: sqlite3.Connection) -> None:
    """Put the file in WAL mode (as the application's engine does) and create
    procrastinate's tables, indexes and triggers in one transaction.

    Fails (``sqlite3.OperationalError``) if they already exist. The connection must not
    be inside a transaction.
    """
    if connection.in_transaction:
        raise RuntimeError("create_schema needs a connection outside any transaction")
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA_STATEMENTS:
                cursor.execute(statement)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
    finally:
        cursor.close()
