"""What the job queue keeps beside procrastinate's own tables: progress and errors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base
from workflow.models.base import UTCDateTime, utcnow


class JobProgress(Base):
    """One row per job that has started, keyed by procrastinate's job id (no foreign key:
    procrastinate's tables are its own, and on SQLite another connector's). Written by the
    worker running the job; read by ``estrategia jobs`` and progress bars."""

    __tablename__ = "job_progress"

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    task_name: Mapped[str] = mapped_column(String(128))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The last attempt's error, ``Type: message``; cleared when an attempt starts."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class JobBatchItem(Base):
    """One finished item of a batch job (``workflow.jobs.batch``): a rerun of the job after
    a crash or a retry skips the items that have a row."""

    __tablename__ = "job_batch_items"

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    item_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
