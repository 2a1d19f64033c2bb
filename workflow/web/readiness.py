"""What ``/ready`` checks: a small registry of named checks, each ``(runtime) -> bool``.

``create_app(readiness=...)`` takes the list (default: :func:`default_checks`); a new part
of the installation adds one line there. A check answers True (ready), False, or raises
(not ready: the exception is logged here, never shown to the caller, as it may name
paths, hosts or versions).

Checks run in threads of their own, all at once, and ``/ready`` waits at most
``settings.ops.ready_timeout_s`` for them: a check still running counts as not ready
(``timeout``), and the next probe waits on the same run instead of starting another, so
that a slow LibreOffice start or an unreachable database never piles up threads. A check
with ``cache_s`` reuses its last result that long: the converter check may start an
office, and a probe every second must not cost a conversion, or a start, each time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from sqlalchemy import text

from workflow.config import Settings
from workflow.jobs.queue import queue_of, queue_ready
from workflow.rendering.converter import FallbackConverter, WarmConverterPool
from workflow.runtime import Runtime

log = logging.getLogger(__name__)

OK, FAILED, TIMEOUT = "ok", "failed", "timeout"


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    check: Callable[[Runtime], bool]
    cache_s: float = 0.0
    """Seconds a finished result is reused (0: every probe runs the check)."""


def database_ready(rt: Runtime) -> bool:
    """The database answers a trivial query that reads its schema (Alembic's version row):
    on SQLite ``SELECT 1`` alone would not even open the file."""
    with rt.engine.connect() as connection:
        connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return True


def converter_ready(rt: Runtime) -> bool:
    """The warm pool has a live LibreOffice, or can start one (it then stays warm for the
    next conversion). Converts nothing. A converter that is not a warm pool (a test's) has
    nothing to start."""
    converter = rt.converter
    pool = converter.warm if isinstance(converter, FallbackConverter) else converter
    if not isinstance(pool, WarmConverterPool):
        return True
    if pool.worker_pids():
        return True
    pool.start()
    return bool(pool.worker_pids())


def default_checks(settings: Settings) -> list[ReadinessCheck]:
    return [
        ReadinessCheck("database", database_ready),
        ReadinessCheck("converter", converter_ready, cache_s=settings.ops.ready_cache_s),
        ReadinessCheck("queue", lambda rt: queue_ready(queue_of(rt))),
    ]


@dataclass
class _Run:
    future: Future[bool]
    finished_at: float | None = None


@dataclass
class Readiness:
    """Runs the checks of one app (see the module docstring)."""

    checks: Sequence[ReadinessCheck]
    timeout_s: float
    _runs: dict[str, _Run] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, rt: Runtime) -> dict[str, str]:
        """Each check's name -> ``ok``, ``failed`` or ``timeout``."""
        with self._lock:
            runs = {c.name: self._run_for(c, rt) for c in self.checks}
        deadline = time.monotonic() + self.timeout_s
        return {name: self._result(name, run, deadline) for name, run in runs.items()}

    def _run_for(self, check: ReadinessCheck, rt: Runtime) -> _Run:
        run = self._runs.get(check.name)
        if run is not None and (
            run.finished_at is None or time.monotonic() - run.finished_at < check.cache_s
        ):
            return run  # still running, or fresh enough
        future: Future[bool] = Future()
        run = self._runs[check.name] = _Run(future)

        def target() -> None:
            future.set_running_or_notify_cancel()
            try:
                future.set_result(bool(check.check(rt)))
            except BaseException as exc:
                future.set_exception(exc)
            finally:
                run.finished_at = time.monotonic()

        threading.Thread(target=target, name=f"ready-{check.name}", daemon=True).start()
        return run

    @staticmethod
    def _result(name: str, run: _Run, deadline: float) -> str:
        try:
            ok = run.future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            log.warning("readiness check %s: still running", name)
            return TIMEOUT
        except Exception as exc:
            log.warning("readiness check %s failed: %s", name, exc, exc_info=exc)
            return FAILED
        if not ok:
            log.warning("readiness check %s: not ready", name)
        return OK if ok else FAILED


def not_ready(results: Mapping[str, str]) -> list[str]:
    return [name for name, result in results.items() if result != OK]
