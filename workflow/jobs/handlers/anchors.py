"""``audit.anchor``: timestamp the audit chain's head (``workflow.archive.anchors``).

Runs hourly (at a quarter past, after ``audit.verify`` on the hour) and for every
``ANCHOR_AUDIT`` effect, which archiving writes, with the outbox entry's id. Idempotent: a
head anchored already is not anchored again, and the entry is claimed after the anchor is
stored. No TSA configured: a warning, and the job ends (retrying would not help). A TSA
that does not answer: the job fails and is retried with backoff.
"""

from __future__ import annotations

import logging

from workflow import outbox
from workflow.archive.anchors import AnchorOutcome, anchor_head
from workflow.db import transaction
from workflow.errors import ErrorCode, EstrategiaError
from workflow.jobs.registry import JobContext, PermanentJobError, job
from workflow.runtime import Runtime

log = logging.getLogger(__name__)


@job("audit.anchor", retries=5, backoff_s=300.0, time_limit_s=600, cron="15 * * * *")
def anchor_job(ctx: JobContext, *, entry_id: int | None = None) -> None:
    anchor_after(ctx.rt, entry_id)


def anchor_after(rt: Runtime, entry_id: int | None) -> AnchorOutcome:
    """Anchor the head (reason ``archive`` for an outbox entry, else ``schedule``), then
    mark the entry done."""
    try:
        outcome = anchor_head(rt, reason="schedule" if entry_id is None else "archive")
    except EstrategiaError as exc:  # the signing environment is not configured
        raise PermanentJobError(str(exc)) from exc
    if outcome.skipped is ErrorCode.AUDIT_ANCHOR_NO_TSA:
        log.warning("audit.anchor: %s", outcome.message("en"))
    elif outcome.skipped is not None:
        log.info("audit.anchor: %s", outcome.message("en"))
    if entry_id is not None:
        with transaction(rt.sessions) as session:
            outbox.claim(session, entry_id)
    return outcome
