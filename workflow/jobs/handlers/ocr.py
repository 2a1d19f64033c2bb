"""``archive.ocr``: read a scanned agreement imported into the archive (its record waits
in ``text_status = "ocr_pending"``) with ocrmypdf and Tesseract's Polish data; and
``archive.ocr_sweep``, which queues it again for any record still waiting.

The use-case is ``workflow.archive.text.read_scan``: the record's own file is never
changed (OCR reads a temporary copy); the text goes to a blob named in the
``archive.ocr_done`` audit record and to the search index. Idempotent: a record no longer
``ocr_pending`` is left alone. A failed OCR is retried (``retries``); the last attempt
records ``ocr_failed`` with the reason instead of raising.

Whoever imports a scan calls :func:`queue_ocr` after the import committed (the CLI, the
API). A process that died in between leaves the record ``ocr_pending`` with no job: the
sweep (every 10 minutes) queues those archived over an hour ago (longer than a job with
its retries takes); the queueing lock (``dedup_key``) keeps one job per record waiting.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from workflow.archive.text import TextUnavailable, read_scan
from workflow.db import transaction
from workflow.errors import NotFound
from workflow.jobs.registry import JobContext, PermanentJobError, defer, job, spec_of
from workflow.models.archive import ArchiveRecord
from workflow.runtime import Runtime

__all__ = ["JOB_NAME", "SWEEP_JOB_NAME", "ocr_job", "queue_ocr", "queue_waiting"]

log = logging.getLogger(__name__)

JOB_NAME = "archive.ocr"
SWEEP_JOB_NAME = "archive.ocr_sweep"
SWEEP_BATCH = 500
SWEEP_AFTER = timedelta(hours=1)
MARGIN_S = 15.0
"""Of the job's time, kept back for storing the text after ocrmypdf returns."""


@job(JOB_NAME, retries=2, backoff_s=30.0, time_limit_s=900)
def ocr_job(ctx: JobContext, *, record_id: int) -> None:
    last = ctx.attempt > spec_of(JOB_NAME).retries
    ctx.progress(0, 1, "OCR")
    remaining = ctx.time_limit_s - MARGIN_S
    try:
        outcome = read_scan(ctx.rt, record_id, timeout_s=max(remaining, 1.0), last_attempt=last)
    except NotFound as exc:
        raise PermanentJobError(str(exc)) from exc
    except TextUnavailable as exc:
        log.info("archive record %s: OCR attempt %d failed: %s", record_id, ctx.attempt, exc)
        raise
    ctx.progress(1, 1, outcome.status)


@job(SWEEP_JOB_NAME, retries=0, time_limit_s=300, cron="*/10 * * * *")
def ocr_sweep_job(ctx: JobContext) -> None:
    queue_waiting(ctx.rt)


def queue_ocr(rt: Runtime, record_id: int) -> int:
    """Queue the OCR of ``record_id`` (call it after the import committed); the job id."""
    return defer(rt, JOB_NAME, args={"record_id": record_id}, dedup_key=f"archive-ocr:{record_id}")


def queue_waiting(
    rt: Runtime, *, older_than: timedelta = SWEEP_AFTER, limit: int = SWEEP_BATCH
) -> int:
    """Queue the OCR of every record still ``ocr_pending`` that was archived at least
    ``older_than`` ago (up to ``limit``); how many."""
    before = datetime.now(UTC) - older_than
    with transaction(rt.read_sessions) as session:
        ids = session.scalars(
            select(ArchiveRecord.id)
            .where(ArchiveRecord.text_status == "ocr_pending", ArchiveRecord.archived_at <= before)
            .order_by(ArchiveRecord.id)
            .limit(limit)
        ).all()
    for record_id in ids:
        queue_ocr(rt, record_id)
    return len(ids)
