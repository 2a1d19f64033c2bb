"""The public API of the job queue: ``@job`` registers a handler, ``defer`` queues a run,
a handler gets a ``JobContext``.

    from workflow.jobs import JobContext, defer, job

    @job("documents.render_pdf", retries=5, backoff_s=2.0, time_limit_s=300)
    def render_pdf(ctx: JobContext, *, version_id: int) -> None:
        ...  # idempotent: may run more than once (see below)

    job_id = defer(rt, "documents.render_pdf", args={"version_id": 7}, dedup_key="pdf:7")

Registering builds nothing: ``@job`` only records the handler in this module's table;
the queue (``workflow.jobs.queue``) turns the table into procrastinate tasks when an edge
first needs it. A handler module must be imported by the process that runs it: the
worker imports ``HANDLER_MODULES`` (add a module there, or import it from one of them).

**Every handler must be idempotent.** Delivery is at least once: a job whose worker dies
(SIGKILL, power loss) is retried by another worker once its heartbeat is stale, and a job
that failed is retried with backoff, so a handler may run again after it did part or all
of its work. Write the effect so that a second run finds it done and does nothing
(look for the row, the blob, the audit record first; use unique keys; ``ctx.job_id`` and
``dedup_key`` help name what was done).

**Time limit.** Python cannot stop a thread, so the limit is cooperative: after
``time_limit_s`` ``ctx.should_stop()`` returns True and ``ctx.check()`` raises
``TimeLimitExceeded``; a handler doing long work calls one of them between steps. The job
then fails, with that message, and is not retried. Work that cannot check (one LibreOffice
conversion) relies on its own timeout (``settings.converter.timeout_s``). A handler that
neither checks nor returns keeps its worker slot until it does; ``jobs show`` then says
that it is over its limit.

Errors: ``PermanentJobError`` fails a job at once, without retries (bad arguments, a
document that no longer exists); any other exception is retried with exponential backoff
(``backoff_s``, then twice that, ...) up to ``retries`` times, then the job is *failed*
and ``estrategia jobs list --state failed`` shows it with its error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from workflow.runtime import Runtime

JsonValue = Any
"""A value ``json.dumps`` accepts (args are stored as JSON by the queue)."""

HANDLER_MODULES: tuple[str, ...] = ("workflow.jobs.builtin", "workflow.jobs.handlers")
"""Imported by every process that runs jobs (a missing one is skipped)."""


class JobError(Exception):
    """Base of the errors this package raises into handlers or callers."""


class PermanentJobError(JobError):
    """Raised by a handler: the job fails now, without further retries."""


class TimeLimitExceeded(PermanentJobError):
    """The job ran past its ``time_limit_s`` (raised by ``JobContext.check``)."""


class JobStopped(JobError):
    """An operator asked to stop the job (``estrategia jobs cancel``); raised by ``check``."""


class UnknownJob(JobError):
    """``defer`` named a job that no ``@job`` registered."""


class Handler(Protocol):
    def __call__(self, ctx: JobContext, /, **args: Any) -> None: ...


@dataclass(frozen=True)
class JobSpec:
    """One registered kind of job."""

    name: str
    """Unique, dotted by area: ``documents.render_pdf``; stored with every job."""
    handler: Callable[..., None]
    retries: int
    """Retries after the first attempt (0: run once)."""
    backoff_s: float
    """Wait before the first retry; doubled for each later one."""
    time_limit_s: float
    """Cooperative limit of one attempt (see the module docstring)."""
    queue: str
    cron: str | None
    """Run on this schedule too (5-field cron, UTC; ``settings.jobs.schedules`` overrides
    it by name, ``""`` there turns it off). The handler then gets no arguments."""

    def retry_delay_s(self, attempts_so_far: int) -> float:
        """Seconds to wait before the next attempt, after ``attempts_so_far`` failed ones."""
        return self.backoff_s * (2 ** max(attempts_so_far - 1, 0))


_REGISTRY: dict[str, JobSpec] = {}


def job(
    name: str,
    *,
    retries: int = 3,
    backoff_s: float = 5.0,
    time_limit_s: float = 600.0,
    queue: str = "default",
    cron: str | None = None,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``handler(ctx: JobContext, **args) -> None`` as the job ``name``.

    The function is returned unchanged (call it directly in tests with a ``JobContext``).
    Registering the same name twice with a different function is a bug and raises."""
    if retries < 0 or backoff_s < 0 or time_limit_s <= 0:
        raise ValueError("retries >= 0, backoff_s >= 0 and time_limit_s > 0")

    def register(handler: Callable[..., None]) -> Callable[..., None]:
        spec = JobSpec(name, handler, retries, backoff_s, time_limit_s, queue, cron)
        known = _REGISTRY.get(name)
        if (
            known is not None
            and known.handler is not handler
            and (
                known.handler.__qualname__ != handler.__qualname__
                or known.handler.__module__ != handler.__module__
            )
        ):
            raise ValueError(f"job {name!r} is already registered by {known.handler!r}")
        _REGISTRY[name] = spec
        return handler

    return register


def registered() -> Mapping[str, JobSpec]:
    """Every job registered so far, by name."""
    return dict(_REGISTRY)


def import_handlers() -> None:
    """Import ``HANDLER_MODULES`` (each registers its jobs); a missing one is skipped."""
    import importlib

    for module in HANDLER_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def spec_of(name: str) -> JobSpec:
    """The registered job ``name`` (the handler modules are imported on a first miss)."""
    if name not in _REGISTRY:
        import_handlers()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownJob(f"no job named {name!r} is registered") from None


ProgressSink = Callable[[int, "int | None", str], None]


def _no_progress(done: int, total: int | None, message: str) -> None:
    return None


@dataclass
class JobContext:
    """What a handler gets: the runtime, who it is, and how to report and to stop."""

    rt: Runtime
    job_id: int
    attempt: int
    """1 for the first run, 2 for the first retry, ..."""
    time_limit_s: float = 600.0
    started: float = field(default_factory=time.monotonic)
    _abort_requested: Callable[[], bool] = field(default=lambda: False, repr=False)
    _sink: ProgressSink = field(default=_no_progress, repr=False)

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Record how far the job is (``jobs show`` prints it; a progress bar reads it).
        Cheap enough for every item of a batch of thousands."""
        self._sink(done, total, message)

    @property
    def deadline_passed(self) -> bool:
        return time.monotonic() - self.started > self.time_limit_s

    def should_stop(self) -> bool:
        """True when an operator cancelled the job or its time limit passed: stop soon,
        ideally through :meth:`check`, which raises the matching error."""
        return self.deadline_passed or self._abort_requested()

    def check(self) -> None:
        """Raise ``JobStopped`` or ``TimeLimitExceeded`` if the job must stop now."""
        if self._abort_requested():
            raise JobStopped(
                f"job {self.job_id} was asked to stop (cancelled, or its worker is stopping)"
            )
        if self.deadline_passed:
            elapsed = time.monotonic() - self.started
            raise TimeLimitExceeded(
                f"job {self.job_id} stopped after {elapsed:.1f} s: time limit "
                f"{self.time_limit_s:g} s exceeded"
            )


class _Deferrer(Protocol):
    def defer(
        self,
        name: str,
        *,
        args: Mapping[str, JsonValue],
        dedup_key: str | None = None,
        delay_s: float | None = None,
    ) -> int: ...


def defer(
    target: Runtime | _Deferrer,
    name: str,
    *,
    args: Mapping[str, JsonValue] | None = None,
    dedup_key: str | None = None,
    delay_s: float | None = None,
) -> int:
    """Queue a run of the job ``name`` with ``args``; returns the job id.

    ``target``: a ``Runtime`` (its queue is made on first use) or a ``JobQueue``. Call it
    after the transaction that made the work necessary has committed (the outbox does).
    ``dedup_key``: while a job with this key is still waiting, deferring again returns the
    waiting job's id instead of queuing a second one (procrastinate's queueing lock); once
    it runs, a new one may be queued. ``delay_s``: run no sooner than that."""
    spec_of(name)  # fail here, in the caller, for a typo
    from workflow.runtime import Runtime

    queue: _Deferrer
    if isinstance(target, Runtime):
        from workflow.jobs.queue import queue_of

        queue = queue_of(target)
    else:
        queue = target
    return queue.defer(name, args=dict(args or {}), dedup_key=dedup_key, delay_s=delay_s)
