"""Prometheus metrics: what the application measures, and their exposition.

Measured here, whatever the settings (observing costs a few hundred nanoseconds); served
at ``/metrics`` only when ``ESTRATEGIA_METRICS=true`` (``web/api/health.py``):

    estrategia_http_requests_total{method, route, status}        counter
    estrategia_http_request_duration_seconds{method, route}      histogram
    estrategia_conversion_duration_seconds{converter, outcome}   histogram (warm | cold)
    estrategia_signing_duration_seconds{mode, outcome}           histogram (key | external)
    estrategia_jobs{state}                                       gauge, read from the queue
                                                                 on each scrape (any process)

``route`` is the route's template (``/api/v1/documents/{document_id}``), never the raw
path: one series per route, not one per document, and nothing a caller typed.

Several processes (``serve --workers N``, an embedded or separate worker on the same
machine): prometheus-client's multiprocess mode. ``serve`` calls
:func:`prepare_multiprocess` before anything imports ``prometheus_client``; it points
``PROMETHEUS_MULTIPROC_DIR`` at ``var/metrics`` (0700; an operator's own value is kept),
where every process of the machine writes its samples into memory-mapped files, and each
scrape of any one of them sums them all. Without it, each uvicorn worker would answer with
its own counters and a scrape would land on a random one. Files of processes that are no
longer running are removed at start (their counts then drop: a counter reset, which
Prometheus' ``rate()`` handles). The folder must be on a local disk; each machine is its
own scrape target.

Nothing is built at import: the metrics are made on first use (so that the multiprocess
choice, which prometheus-client makes when it is first imported, can still be made), and
this module imports ``prometheus_client`` only inside functions.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from workflow.config import Settings, private_dir

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector

__all__ = [
    "JobsCollector",
    "exposition",
    "multiprocess_dir",
    "observe_conversion",
    "observe_request",
    "observe_signing",
    "prepare_multiprocess",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
P = ParamSpec("P")
R = TypeVar("R")
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_CONVERSION_BUCKETS = (0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_SIGNING_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class _Instruments:
    requests: Counter
    request_seconds: Histogram
    conversion_seconds: Histogram
    signing_seconds: Histogram


_made: _Instruments | None = None
_making = threading.Lock()


def _instruments() -> _Instruments:
    """The instruments, made once per process. Under a lock: the first request and the
    first conversion of the embedded worker can arrive together, and a second registration
    of a name is prometheus-client's ``Duplicated timeseries`` error (it failed a PDF job)."""
    global _made
    if _made is None:
        with _making:
            if _made is None:
                _made = _make_instruments()
    return _made


def _make_instruments() -> _Instruments:
    from prometheus_client import Counter, Histogram

    return _Instruments(
        requests=Counter(
            "estrategia_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
        ),
        request_seconds=Histogram(
            "estrategia_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            ["method", "route"],
            buckets=_HTTP_BUCKETS,
        ),
        conversion_seconds=Histogram(
            "estrategia_conversion_duration_seconds",
            "DOCX -> PDF/A-2b conversions as their callers wait for them (a free warm "
            "worker included), by converter (warm, cold) and outcome (ok, failed).",
            ["converter", "outcome"],
            buckets=_CONVERSION_BUCKETS,
        ),
        signing_seconds=Histogram(
            "estrategia_signing_duration_seconds",
            "Signature use-cases, from the awaited PDF to the stored signed PDF (TSA, "
            "revocation and validation included), by mode (key, external) and outcome.",
            ["mode", "outcome"],
            buckets=_SIGNING_BUCKETS,
        ),
    )


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    """One answered HTTP request (``web/middleware.py``)."""
    m = _instruments()
    m.requests.labels(method, route, str(status)).inc()
    m.request_seconds.labels(method, route).observe(seconds)


def _timed(
    histogram: Callable[[], Histogram], label: str
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            start = time.perf_counter()
            outcome = "failed"
            try:
                result = func(*args, **kwargs)
                outcome = "ok"
                return result
            finally:
                histogram().labels(label, outcome).observe(time.perf_counter() - start)

        return timed

    return decorate


def observe_conversion(converter: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: time each call of a converter's ``convert`` (``"warm"``, ``"cold"``)."""
    return _timed(lambda: _instruments().conversion_seconds, converter)


def observe_signing(mode: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: time each call of a signature use-case (``"key"``, ``"external"``)."""
    return _timed(lambda: _instruments().signing_seconds, mode)


class JobsCollector:
    """``estrategia_jobs{state}``, counted by ``counts`` (the queue's query) at each scrape:
    right whichever process answers, as the database holds the truth."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(
            "estrategia_jobs", "Jobs in the queue, by state.", labels=["state"]
        )
        for state, count in sorted(self._counts().items()):
            family.add_metric([state], count)
        yield family


def multiprocess_dir() -> Path | None:
    """The folder of multiprocess mode, if this process is in it."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def prepare_multiprocess(settings: Settings) -> Path | None:
    """Multiprocess mode for this process and the ones it starts (see the module docstring):
    call before ``prometheus_client`` is first imported. Nothing when metrics are off."""
    if not settings.ops.metrics:
        return None
    folder = multiprocess_dir()
    if folder is None:
        folder = private_dir(settings.var_dir) / "metrics"
        os.environ[MULTIPROC_ENV] = str(folder.resolve())
    private_dir(folder)
    _remove_dead(folder)
    return folder


_PID = re.compile(r"_(\d+)\.db$")


def _remove_dead(folder: Path) -> None:
    """Delete the sample files of processes that no longer run (``counter_1234.db``)."""
    for path in folder.glob("*.db"):
        found = _PID.search(path.name)
        if found is None or _alive(int(found.group(1))):
            continue
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition(collectors: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """The text exposition (body, content type) of this process, or of every process of
    the machine in multiprocess mode, plus ``collectors`` (the queue's, read on scrape)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry
    from prometheus_client.exposition import generate_latest

    _instruments()  # the series exist (empty) before the first request
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir() is not None:
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)
    else:
        registry.register(_Proxy(REGISTRY))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Proxy:
    """The process-wide registry, inside the registry of one scrape."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()
