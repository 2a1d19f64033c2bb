"""``search.index_document``: rebuild the search index entry of the document an outbox entry
names (a new version, a change of status, a new document)."""

from __future__ import annotations

from workflow import outbox
from workflow.db import transaction
from workflow.jobs.registry import JobContext, PermanentJobError, job
from workflow.models import OutboxEntry
from workflow.runtime import Runtime
from workflow.search.index import index_document


@job("search.index_document", retries=5, backoff_s=2.0, time_limit_s=300)
def index(ctx: JobContext, *, entry_id: int) -> None:
    index_entry_of_outbox(ctx.rt, entry_id)


def index_entry_of_outbox(rt: Runtime, entry_id: int) -> int | None:
    """Reindex the document of outbox entry ``entry_id`` and mark the entry done, in one
    transaction; the search entry's id (None: done before, or the document is gone).
    Idempotent: the entry is rebuilt from the document's state at the time of the run, so
    a late or repeated run writes the same row."""
    with transaction(rt.read_sessions) as session:
        entry = session.get(OutboxEntry, entry_id)
        if entry is None or entry.document_id is None:
            raise PermanentJobError(f"outbox entry {entry_id} names no document")
        if entry.completed_at is not None:
            return None
        document_id = entry.document_id
    with transaction(rt.sessions) as session:
        if not outbox.claim(session, entry_id):
            return None
        return index_document(session, rt.blobs, document_id)
