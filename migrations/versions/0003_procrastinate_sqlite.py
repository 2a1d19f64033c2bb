"""procrastinate's job queue tables on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 10:00:00

On SQLite the job queue (procrastinate through ``workflow.jobs.sqlite_connector``) keeps its
jobs, events, workers and periodic defers in the application's database file: these are
the tables of ``workflow/jobs/sqlite_schema.py`` at this revision, frozen here (a test
compares the two). On PostgreSQL this revision does nothing: procrastinate's own schema is
applied there by the queue.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE procrastinate_workers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        last_heartbeat TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'))
    )
    """,
    """
    CREATE TABLE procrastinate_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_name VARCHAR(128) NOT NULL,
        task_name VARCHAR(128) NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        lock TEXT,
        queueing_lock TEXT,
        args TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'todo' CHECK (status IN (
            'todo', 'doing', 'succeeded', 'failed', 'cancelled', 'aborting', 'aborted'
        )),
        scheduled_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        abort_requested INTEGER NOT NULL DEFAULT 0 CHECK (abort_requested IN (0, 1)),
        worker_id INTEGER REFERENCES procrastinate_workers (id) ON DELETE SET NULL,
        CONSTRAINT check_not_todo_abort_requested
            CHECK (NOT (status = 'todo' AND abort_requested = 1))
    )
    """,
    """
    CREATE TABLE procrastinate_periodic_defers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_name VARCHAR(128) NOT NULL,
        defer_timestamp INTEGER,
        job_id INTEGER REFERENCES procrastinate_jobs (id) ON DELETE SET NULL,
        periodic_id VARCHAR(128) NOT NULL DEFAULT '',
        CONSTRAINT procrastinate_periodic_defers_unique
            UNIQUE (task_name, periodic_id, defer_timestamp)
    )
    """,
    """
    CREATE TABLE procrastinate_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id INTEGER NOT NULL REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
        type TEXT CHECK (type IN (
            'deferred', 'started', 'deferred_for_retry', 'failed', 'succeeded', 'cancelled',
            'abort_requested', 'aborted', 'scheduled', 'retried'
        )),
        at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'))
    )
    """,
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
    """
    CREATE TRIGGER procrastinate_trigger_status_events_insert_v1
    AFTER INSERT ON procrastinate_jobs FOR EACH ROW WHEN NEW.status = 'todo'
    BEGIN
        INSERT INTO procrastinate_events (job_id, type) VALUES (NEW.id, 'deferred');
    END
    """,
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
    END
    """,
    """
    CREATE TRIGGER procrastinate_trigger_scheduled_events_insert_v1
    AFTER INSERT ON procrastinate_jobs FOR EACH ROW
    WHEN NEW.scheduled_at IS NOT NULL AND NEW.status = 'todo'
    BEGIN
        INSERT INTO procrastinate_events (job_id, type, at)
        VALUES (NEW.id, 'scheduled', NEW.scheduled_at);
    END
    """,
    """
    CREATE TRIGGER procrastinate_trigger_scheduled_events_update_v1
    AFTER UPDATE ON procrastinate_jobs FOR EACH ROW
    WHEN NEW.scheduled_at IS NOT NULL AND NEW.status = 'todo'
    BEGIN
        INSERT INTO procrastinate_events (job_id, type, at)
        VALUES (NEW.id, 'scheduled', NEW.scheduled_at);
    END
    """,
    """
    CREATE TRIGGER procrastinate_trigger_abort_requested_events_v1
    AFTER UPDATE OF abort_requested ON procrastinate_jobs FOR EACH ROW
    WHEN NEW.abort_requested = 1
    BEGIN
        INSERT INTO procrastinate_events (job_id, type) VALUES (NEW.id, 'abort_requested');
    END
    """,
)

TRIGGERS = (
    "procrastinate_trigger_status_events_insert_v1",
    "procrastinate_trigger_status_events_update_v1",
    "procrastinate_trigger_scheduled_events_insert_v1",
    "procrastinate_trigger_scheduled_events_update_v1",
    "procrastinate_trigger_abort_requested_events_v1",
)
TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in TABLES:  # their indexes go with them
        op.execute(f"DROP TABLE IF EXISTS {table}")
