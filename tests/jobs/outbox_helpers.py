"""Helpers for the outbox tests: read the outbox, run the queue's worker until it is empty."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from workflow.db import transaction
from workflow.jobs.queue import queue_of
from workflow.models import AuditRecord, OutboxEntry
from workflow.runtime import Runtime


def entries(rt: Runtime) -> list[OutboxEntry]:
    with transaction(rt.read_sessions) as s:
        rows = list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))
        s.expunge_all()
        return rows


def audit_actions(rt: Runtime, action: str) -> list[AuditRecord]:
    with transaction(rt.read_sessions) as s:
        rows = list(s.scalars(select(AuditRecord).where(AuditRecord.action == action)))
        s.expunge_all()
        return rows


def run_jobs(rt: Runtime) -> None:
    """One worker of the application's queue, until no job is waiting (``wait=False``)."""
    asyncio.run(queue_of(rt).run_worker_async(wait=False, concurrency=1))


def render_pending(rt: Runtime) -> None:
    """Carry out every render still waiting in the outbox, in this thread (for tests whose
    app runs an embedded worker of its own, which would race a second one)."""
    from workflow.jobs.handlers.render import render_entry
    from workflow.states import Effect

    for e in entries(rt):
        if e.effect == Effect.RENDER_PDF and e.completed_at is None:
            render_entry(rt, e.id)
