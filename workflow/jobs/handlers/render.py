"""``documents.render_pdf``: render the PDF/A of the version an outbox entry names."""

from __future__ import annotations

from workflow import outbox
from workflow.db import transaction
from workflow.documents.rendition import render_pdf
from workflow.errors import NotFound
from workflow.jobs.registry import JobContext, PermanentJobError, job
from workflow.models import OutboxEntry
from workflow.runtime import Runtime


@job("documents.render_pdf", retries=5, backoff_s=2.0, time_limit_s=300)
def render(ctx: JobContext, *, entry_id: int) -> None:
    render_entry(ctx.rt, entry_id)


def render_entry(rt: Runtime, entry_id: int) -> str | None:
    """Render the version of outbox entry ``entry_id`` unless it has its PDF, then mark the
    entry done; the PDF's sha256 (None: a previous run did it all). Idempotent: one
    rendition and one ``document.rendered`` record per version (``render_pdf``)."""
    with transaction(rt.read_sessions) as session:
        entry = session.get(OutboxEntry, entry_id)
        if entry is None or entry.version_id is None:
            raise PermanentJobError(f"outbox entry {entry_id} names no version")
        if entry.completed_at is not None:
            return None
        version_id = entry.version_id
    try:
        sha = render_pdf(rt, version_id=version_id)
    except NotFound as exc:
        raise PermanentJobError(str(exc)) from exc
    with transaction(rt.sessions) as session:
        outbox.claim(session, entry_id)
    return sha
