"""``documents.render_preview``: the page images of a draft's values (see
``workflow.documents.preview``), and :func:`queue_preview`, what a page calls to ask for
them: the preview row is made (or found) by the use-case, then the job is queued after its
commit. Idempotent: a preview that is ready (or failed) is left as it is."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.documents.preview import PreviewState, render_preview, request_preview
from workflow.documents.pruning import prune_drafting
from workflow.errors import NotFound
from workflow.identity.actors import Actor
from workflow.jobs.registry import JobContext, PermanentJobError, defer, job
from workflow.runtime import Runtime

JOB_NAME = "documents.render_preview"


@job(JOB_NAME, retries=3, backoff_s=2.0, time_limit_s=180)
def render_preview_job(ctx: JobContext, *, preview_id: int) -> None:
    try:
        render_preview(ctx.rt, preview_id=preview_id)
    except NotFound as exc:
        raise PermanentJobError(str(exc)) from exc


@job("documents.prune", retries=1, backoff_s=600.0, time_limit_s=1800, cron="0 3 * * *")
def prune_drafting_job(ctx: JobContext) -> None:
    """Old previews and working drafts no longer of use (``documents.pruning``), before the
    daily ``blobs.gc`` takes the page images they leave unrecorded."""
    prune_drafting(ctx.rt)


def queue_preview(
    rt: Runtime, *, actor: Actor, document_id: int, values: Mapping[str, object]
) -> PreviewState:
    """Ask for the preview of ``values`` (``InvalidInput`` if they do not validate) and
    queue its render when it is new; the state either way."""
    state = request_preview(rt, actor=actor, document_id=document_id, values=values)
    if state.needs_job:
        defer(rt, JOB_NAME, args={"preview_id": state.id}, dedup_key=f"preview:{state.id}")
    return state
