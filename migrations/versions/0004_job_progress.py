"""job progress; procrastinate's schema on PostgreSQL

``job_progress``: done/total/message and the last error of each job, by procrastinate's
job id, and the finished items of batch jobs (both backends).

On PostgreSQL, procrastinate's own schema (its ``schema.sql``, as ``SchemaManager``
applies it) for the pinned procrastinate version, unless ``procrastinate_jobs`` is already
there (installed by hand or by ``procrastinate schema --apply``). Upgrading procrastinate
later means a new revision that runs its migration files between the two versions
(``SchemaManager.get_migrations_path()``). On SQLite, revision 0003 makes its tables.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        present = bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
        if present is None:
            # Several statements, no parameters: psycopg runs them as one script in this
            # transaction (what SchemaManager.apply_schema does on its own connection).
            bind.connection.driver_connection.execute(SchemaManager.get_schema())
    op.create_table(
        "job_progress",
        sa.Column("job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("task_name", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_progress")),
    )
    op.create_table(
        "job_batch_items",
        sa.Column("job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_key", sa.String(length=200), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "item_key", name=op.f("pk_job_batch_items")),
    )


def downgrade() -> None:
    # procrastinate's schema stays: it holds the jobs, and may predate this revision.
    op.drop_table("job_batch_items")
    op.drop_table("job_progress")
