"""A batch: one job over a list of items (letters to 2,500 municipalities, N previews).

    @batch_step("letters.render_one")
    def render_one(ctx: JobContext, item: dict) -> None: ...   # idempotent, per item

    job_id = defer_batch(rt, "letters.render_one", items=[{"key": "gmina-2412011", ...}])

The ``jobs.batch`` job runs the step for each item in order, reports progress after each
(``done/total``, the item's key), and records each finished item in ``job_batch_items``:
an item that raises is recorded with its error and the batch goes on; a batch that is run
again (a retry, a stalled job taken over after its worker died) skips the items already
recorded, so at most the item that was running when the worker died runs twice (hence:
steps are idempotent too). Between items the job honours ``cancel`` and its time limit
(a batch's limit is for the whole list: give it one that fits). The batch succeeds when
every item has been tried; ``jobs show`` gives how many failed and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from workflow.jobs.registry import JobContext, PermanentJobError, defer, job
from workflow.models.base import utcnow
from workflow.models.jobs import JobBatchItem

if TYPE_CHECKING:
    from workflow.jobs.registry import _Deferrer
    from workflow.runtime import Runtime

BATCH_JOB = "jobs.batch"
Step = Callable[[JobContext, dict[str, Any]], None]
_STEPS: dict[str, Step] = {}


def batch_step(name: str) -> Callable[[Step], Step]:
    """Register ``step(ctx, item)`` for batches (``item`` is one JSON object)."""

    def register(step: Step) -> Step:
        _STEPS[name] = step
        return step

    return register


def defer_batch(
    target: Runtime | _Deferrer,
    step: str,
    *,
    items: Sequence[Mapping[str, Any]],
    dedup_key: str | None = None,
) -> int:
    """Queue one batch job running ``step`` over ``items``. Each item is a JSON object;
    its ``"key"`` (default: its position) names it in progress and in the records."""
    if step not in _STEPS:
        raise ValueError(f"no batch step named {step!r}")
    keys = [str(item.get("key", i)) for i, item in enumerate(items)]
    if len(set(keys)) != len(keys):
        raise ValueError("batch items need distinct keys")
    return defer(target, BATCH_JOB, args={"step": step, "items": [dict(i) for i in items]},
                 dedup_key=dedup_key)  # fmt: skip


@dataclass(frozen=True)
class BatchSummary:
    finished: int
    failed: int
    errors: list[tuple[str, str]]
    """(item key, error) of the first failed items."""


def summary(engine: Engine, job_id: int, *, first: int = 10) -> BatchSummary | None:
    with engine.connect() as conn:
        finished, failed = conn.execute(
            select(func.count(), func.count().filter(JobBatchItem.ok.is_(False))).where(
                JobBatchItem.job_id == job_id
            )
        ).one()
        if not finished:
            return None
        errors = conn.execute(
            select(JobBatchItem.item_key, JobBatchItem.error)
            .where(JobBatchItem.job_id == job_id, JobBatchItem.ok.is_(False))
            .order_by(JobBatchItem.finished_at)
            .limit(first)
        ).all()
    return BatchSummary(finished, failed, [(k, e or "") for k, e in errors])


def _finished_keys(engine: Engine, job_id: int) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(JobBatchItem.item_key).where(JobBatchItem.job_id == job_id))
        return {r[0] for r in rows}


def _record(engine: Engine, job_id: int, key: str, error: str | None) -> None:
    with engine.begin() as conn:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(
            insert(JobBatchItem)
            .values(
                job_id=job_id, item_key=key, ok=error is None, error=error, finished_at=utcnow()
            )
            .on_conflict_do_nothing(index_elements=["job_id", "item_key"])
        )


@job(BATCH_JOB, retries=3, backoff_s=5.0, time_limit_s=6 * 3600)
def run_batch(ctx: JobContext, *, step: str, items: list[dict[str, Any]]) -> None:
    run_step = _STEPS.get(step)
    if run_step is None:
        raise PermanentJobError(f"no batch step named {step!r} in this worker")
    engine = ctx.rt.engine
    total = len(items)
    done_keys = _finished_keys(engine, ctx.job_id)
    done = failed = 0
    for i, item in enumerate(items):
        key = str(item.get("key", i))
        if key in done_keys:
            done += 1
            continue
        ctx.check()
        try:
            run_step(ctx, item)
            error = None
        except Exception as exc:  # one item's failure is recorded; the batch goes on
            error = f"{type(exc).__name__}: {exc}"[:4000]
            failed += 1
        _record(engine, ctx.job_id, key, error)
        done += 1
        ctx.progress(done, total, f"{key}: failed" if error else key)
    result = summary(engine, ctx.job_id)
    failed_all = result.failed if result else failed
    ctx.progress(total, total, f"{total - failed_all} done, {failed_all} failed")
