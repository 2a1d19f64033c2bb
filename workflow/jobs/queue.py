"""The job queue: procrastinate, on the application's own database.

PostgreSQL: procrastinate's ``PsycopgConnector`` on the same database (its schema applied
by ``estrategia db upgrade``); workers are ``estrategia worker`` processes on any number
of machines, woken by LISTEN/NOTIFY. SQLite: ``SQLiteConnector`` on the same file
(procrastinate's tables made by Alembic revision 0003; polling, and an in-process wake-up);
the worker runs inside ``estrategia serve``. Until that connector is committed, SQLite
falls back to procrastinate's ``InMemoryConnector`` (jobs do not survive a restart).

A ``JobQueue`` belongs to one ``Runtime`` (``queue_of(rt)`` makes it on first use and the
runtime closes it). It keeps one procrastinate ``App`` opened synchronously for deferring
and for the ``jobs`` commands (usable from any thread), and builds a fresh ``App`` on its
own connector for each worker, opened on that worker's event loop.

Each registered ``@job`` becomes a procrastinate task that runs the handler in a thread
with a ``JobContext``; the wrapper records progress and the last error in ``job_progress``.
Retries: procrastinate's retry strategy with exponential backoff (``JobSpec.retry_delay_s``).

Stalled jobs: a worker killed with SIGKILL leaves its job ``doing``. Every worker sends a
heartbeat every ``settings.jobs.heartbeat_s``; a periodic task (``stalled_sweep_cron``,
every minute by default, deferred once per period across all workers) and every worker at
start retry the running jobs whose worker has been silent for ``stalled_after_s``, with
``get_stalled_jobs`` + ``retry_job``; a job that has used all its retries that way fails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workflow.jobs import progress
from workflow.jobs.registry import (
    JobContext,
    JobSpec,
    JobStopped,
    PermanentJobError,
    import_handlers,
    registered,
    spec_of,
)

if TYPE_CHECKING:
    import procrastinate
    from procrastinate import connector as connector_module
    from procrastinate import jobs as pjobs

    from workflow.config import Settings
    from workflow.runtime import Runtime

log = logging.getLogger(__name__)

SWEEP_TASK = "jobs.retry_stalled"
KEEP_SUCCEEDED_H = 24 * 7
STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")
"""procrastinate's job statuses, as ``jobs list --state`` takes them."""

_ATTACHMENT = "workflow.jobs.queue"
_attach_lock = threading.Lock()


def queue_of(rt: Runtime) -> JobQueue:
    """The runtime's queue, made on first use and closed with the runtime."""
    with _attach_lock:
        queue = rt.attachments.get(_ATTACHMENT)
        if not isinstance(queue, JobQueue):
            queue = rt.attachments[_ATTACHMENT] = JobQueue(rt)
        return queue


def queue_ready(queue: JobQueue) -> bool:
    """For ``/ready``: the queue answers (its tables exist and the database replies)."""
    return queue.ready()


def backend_of(settings: Settings) -> str:
    return "postgresql" if settings.effective_database_url.startswith("postgresql") else "sqlite"


def libpq_conninfo(database_url: str) -> str:
    """``postgresql+psycopg://u@/db?host=/run/postgresql`` -> a libpq URI for psycopg."""
    from sqlalchemy import make_url

    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class JobView:
    """One job as ``estrategia jobs`` shows it."""

    id: int
    name: str
    queue: str
    state: str
    attempts: int
    """Attempts made before the current or last one (procrastinate's counter)."""
    args: Mapping[str, Any]
    done: int | None = None
    total: int | None = None
    message: str = ""
    error: str | None = None
    started_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    over_time_limit: bool = False


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:4000]


class _Backoff:
    """procrastinate retry strategy of one ``JobSpec``: exponential backoff, no retry for
    ``PermanentJobError`` (and so ``TimeLimitExceeded``) or a cancelled job."""

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec

    def make(self) -> procrastinate.BaseRetryStrategy:
        from procrastinate import BaseRetryStrategy, RetryDecision

        spec = self.spec

        class Strategy(BaseRetryStrategy):
            def get_retry_decision(
                self, *, exception: BaseException, job: pjobs.Job
            ) -> RetryDecision | None:
                if isinstance(exception, (PermanentJobError, JobStopped)):
                    return None
                if job.attempts >= spec.retries:
                    return None
                delay = dt.timedelta(seconds=spec.retry_delay_s(job.attempts + 1))
                return RetryDecision(retry_at=dt.datetime.now(dt.UTC) + delay)

        return Strategy()


class JobQueue:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.settings = rt.settings
        self.backend = backend_of(rt.settings)
        self._lock = threading.Lock()
        self._app: procrastinate.App | None = None
        self._memory: connector_module.BaseAsyncConnector | None = None

    # -- building -------------------------------------------------------------------------

    def _connector(self) -> connector_module.BaseConnector:
        if self.backend == "postgresql":
            from procrastinate import PsycopgConnector

            return PsycopgConnector(
                conninfo=libpq_conninfo(self.settings.effective_database_url),
                kwargs={"application_name": "estrategia-jobs"},
            )
        try:
            from workflow.jobs.sqlite_connector import SQLiteConnector  # type: ignore[import-not-found,unused-ignore]
        except ModuleNotFoundError as exc:
            if exc.name != "workflow.jobs.sqlite_connector":
                raise
            if self._memory is None:
                from procrastinate.testing import InMemoryConnector

                log.warning("SQLiteConnector is not there yet: jobs are kept in memory")
                self._memory = InMemoryConnector()
            return self._memory
        database = self.settings.effective_database_url.removeprefix("sqlite:///")
        return SQLiteConnector(database)  # type: ignore[no-any-return,unused-ignore]

    def _build_app(self, connector: connector_module.BaseConnector) -> procrastinate.App:
        import procrastinate

        import_handlers()
        app = procrastinate.App(connector=connector)
        schedules = self.settings.jobs.schedules
        for spec in registered().values():
            cron = schedules.get(spec.name, spec.cron)
            task = app.task(
                name=spec.name,
                queue=spec.queue,
                pass_context=True,
                retry=_Backoff(spec).make(),
            )(self._task_function(spec, periodic=bool(cron)))
            if cron:
                app.periodic(cron=cron, periodic_id=spec.name)(task)
        sweep = app.task(name=SWEEP_TASK, queue="default", pass_context=True)(self._sweep_task)
        app.periodic(cron=self.settings.jobs.stalled_sweep_cron)(sweep)
        return app

    @property
    def app(self) -> procrastinate.App:
        """The App for deferring and for the ``jobs`` commands, opened synchronously."""
        with self._lock:
            if self._app is None:
                app = self._build_app(self._connector())
                app.open()
                self._app = app
            return self._app

    def close(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.close()
            self._app = None

    # -- deferring and managing ----------------------------------------------------------

    def defer(
        self,
        name: str,
        *,
        args: Mapping[str, Any],
        dedup_key: str | None = None,
        delay_s: float | None = None,
    ) -> int:
        from procrastinate import exceptions

        spec_of(name)
        options: dict[str, Any] = {}
        if dedup_key is not None:
            options["queueing_lock"] = dedup_key
        if delay_s is not None:
            options["schedule_in"] = {"seconds": delay_s}
        try:
            return int(self.app.configure_task(name, **options).defer(**dict(args)))
        except exceptions.AlreadyEnqueued:
            waiting = self.app.job_manager.list_jobs(queueing_lock=dedup_key, status="todo")
            if waiting and waiting[0].id is not None:
                return waiting[0].id
            # it started between the two queries: the next defer queues a new one
            return int(self.app.configure_task(name, **options).defer(**dict(args)))

    def ready(self) -> bool:
        try:
            return bool(self.app.check_connection())
        except Exception:
            log.warning("the job queue does not answer", exc_info=True)
            return False

    def list_jobs(self, *, state: str | None = None, limit: int = 50) -> list[JobView]:
        jobs = self.app.job_manager.list_jobs(status=state)
        jobs.sort(key=lambda j: j.id or 0, reverse=True)
        return self._views(jobs[:limit])

    def get(self, job_id: int) -> JobView | None:
        views = self._views(self.app.job_manager.list_jobs(id=job_id))
        return views[0] if views else None

    def retry(self, job_id: int) -> bool:
        """A failed, aborted or cancelled job queued again now; False if not in such a state."""
        view = self.get(job_id)
        if view is None or view.state not in ("failed", "aborted", "cancelled"):
            return False
        from procrastinate import utils

        if view.state == "failed":
            self.app.job_manager.retry_job_by_id(job_id, retry_at=utils.utcnow())
        else:  # procrastinate retries only failed jobs: queue the same work anew
            self.defer(view.name, args=view.args)
        return True

    def cancel(self, job_id: int) -> bool:
        """A waiting job is cancelled; a running one is asked to stop (its handler sees
        ``should_stop()``). False if the job is neither waiting nor running."""
        return bool(self.app.job_manager.cancel_job_by_id(job_id, abort=True))

    def _views(self, jobs: Iterable[pjobs.Job]) -> list[JobView]:
        known = [(j.id, j) for j in jobs if j.id is not None]
        rows = progress.load(self.rt.engine, (job_id for job_id, _ in known))
        out = []
        for job_id, j in known:
            p = rows.get(job_id)
            limit = registered().get(j.task_name)
            over = bool(
                p is not None
                and j.status == "doing"
                and limit is not None
                and progress.age_s(p.started_at) > limit.time_limit_s
            )
            out.append(
                JobView(
                    id=job_id,
                    name=j.task_name,
                    queue=j.queue,
                    state=str(j.status),
                    attempts=j.attempts,
                    args=dict(j.task_kwargs),
                    done=p.done if p else None,
                    total=p.total if p else None,
                    message=p.message if p else "",
                    error=p.error if p else None,
                    started_at=p.started_at if p else None,
                    updated_at=p.updated_at if p else None,
                    over_time_limit=over,
                )
            )
        return out

    # -- running ---------------------------------------------------------------------------

    def _task_function(self, spec: JobSpec, *, periodic: bool) -> Any:
        def run(pctx: procrastinate.JobContext, **args: Any) -> None:
            if periodic:
                args.pop("timestamp", None)
            self._run(spec, pctx, args)

        run.__name__ = run.__qualname__ = spec.name.replace(".", "_")
        return run

    def _run(self, spec: JobSpec, pctx: procrastinate.JobContext, args: dict[str, Any]) -> None:
        engine = self.rt.engine
        job_id = pctx.job.id
        if job_id is None:
            raise RuntimeError("procrastinate gave a job without an id")
        attempt = pctx.job.attempts + 1
        progress.start(engine, job_id=job_id, task_name=spec.name, attempt=attempt)
        sink = progress.ThrottledSink(engine, job_id)
        ctx = JobContext(
            rt=self.rt,
            job_id=job_id,
            attempt=attempt,
            time_limit_s=spec.time_limit_s,
            _abort_requested=pctx.should_abort,
            _sink=sink,
        )
        try:
            spec.handler(ctx, **args)
        except JobStopped as exc:
            sink.flush()
            progress.finish(engine, job_id, error=_error_text(exc))
            from procrastinate import exceptions

            raise exceptions.JobAborted(str(exc)) from exc
        except BaseException as exc:
            sink.flush()
            progress.finish(engine, job_id, error=_error_text(exc))
            log.info("job %s %s attempt %d failed: %s", spec.name, job_id, attempt,
                     _error_text(exc), exc_info=not isinstance(exc, PermanentJobError))  # fmt: skip
            raise
        sink.flush()
        if ctx.deadline_passed:
            log.warning("job %s %s finished past its time limit (%g s)", spec.name, job_id,
                        spec.time_limit_s)  # fmt: skip
        progress.finish(engine, job_id, error=None)

    async def _sweep_task(self, pctx: procrastinate.JobContext, timestamp: int) -> None:
        await self.retry_stalled(pctx.app)
        # Succeeded jobs (the sweeps' own included) are kept a week, failed ones until
        # an operator retries or deletes them.
        await pctx.app.job_manager.delete_old_jobs(nb_hours=KEEP_SUCCEEDED_H)

    async def retry_stalled(self, app: procrastinate.App) -> list[int]:
        """Retry the running jobs whose worker missed its heartbeats; fail those that
        have no retries left. Returns the ids retried or failed."""
        from procrastinate import jobs as pjobs

        manager = app.job_manager
        seconds = self.settings.jobs.stalled_after_s
        handled = []
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
            if job.id is None or job.task_name == SWEEP_TASK:
                if job.id is not None:  # a sweep whose worker died: nothing to redo
                    await manager.finish_job(job, pjobs.Status.FAILED, delete_job=False)
                continue
            spec = registered().get(job.task_name)
            lost = f"WorkerLost: worker {job.worker_id} stopped sending heartbeats"
            if spec is not None and job.attempts >= spec.retries:
                await manager.finish_job(job, pjobs.Status.FAILED, delete_job=False)
                error = f"{lost}; no retries left"
            else:
                await manager.retry_job(job)
                error = f"{lost}; retried"
            await asyncio.to_thread(progress.note_error, self.rt.engine, job.id,
                                    job.task_name, error)  # fmt: skip
            log.warning("job %s %s: %s", job.task_name, job.id, error)
            handled.append(job.id)
        return handled

    def worker_options(
        self, *, concurrency: int | None = None, queues: Iterable[str] | None = None
    ) -> dict[str, Any]:
        s = self.settings.jobs
        return {
            "concurrency": concurrency or s.concurrency,
            "queues": list(queues) if queues else None,
            "fetch_job_polling_interval": s.poll_s,
            "abort_job_polling_interval": s.poll_s,
            "update_heartbeat_interval": s.heartbeat_s,
            "stalled_worker_timeout": s.stalled_after_s,
            "listen_notify": self.backend == "postgresql",
        }

    async def run_worker_async(
        self,
        *,
        concurrency: int | None = None,
        queues: Iterable[str] | None = None,
        name: str | None = None,
        install_signal_handlers: bool = False,
        wait: bool = True,
        shutdown_grace_s: float = 30.0,
    ) -> None:
        """Run a worker on the current event loop until cancelled (or, ``wait=False``,
        until the queue is empty). Sync handlers run in threads. On stop it waits up to
        ``shutdown_grace_s`` for running jobs, then aborts them (they are retried)."""
        app = self._build_app(self._connector())
        async with app.open_async():
            try:
                retried = await self.retry_stalled(app)
                if retried:
                    log.warning("worker start: %d stalled job(s) handled", len(retried))
            except Exception:
                log.exception("the stalled-job sweep at start failed")
            options = self.worker_options(concurrency=concurrency, queues=queues)
            await app.run_worker_async(
                name=name or "estrategia",
                install_signal_handlers=install_signal_handlers,
                wait=wait,
                shutdown_graceful_timeout=shutdown_grace_s,
                **options,
            )

    def run_worker(
        self,
        *,
        concurrency: int | None = None,
        queues: Iterable[str] | None = None,
        name: str | None = None,
        wait: bool = True,
    ) -> None:
        """``estrategia worker``: runs until SIGINT/SIGTERM (procrastinate's handlers stop
        it after the running jobs end)."""
        asyncio.run(
            self.run_worker_async(
                concurrency=concurrency, queues=queues, name=name,
                install_signal_handlers=True, wait=wait,
            )
        )  # fmt: skip


def elapsed_s(since: float) -> float:
    return time.monotonic() - since


def format_error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()
