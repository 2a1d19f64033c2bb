"""Jobs for the queue's tests. A worker started by a test imports this module first
(``python -c "import tests.jobs.probes; ..."``), as a real worker imports its handlers."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workflow.jobs import JobContext, PermanentJobError, job
from workflow.jobs.batch import batch_step


@job("probe.count", retries=0, time_limit_s=30)
def count(ctx: JobContext, *, n: int, dir: str) -> None:
    """Reports progress over n steps; leaves one file per job (its effect)."""
    for i in range(n):
        ctx.progress(i + 1, n, f"step {i + 1}")
    _effect(Path(dir), f"count-{ctx.job_id}")


@job("probe.flaky", retries=2, backoff_s=0.1, time_limit_s=30)
def flaky(ctx: JobContext, *, dir: str) -> None:
    """Fails every attempt, leaving one file per attempt."""
    (Path(dir) / f"flaky-{ctx.job_id}-{ctx.attempt}").touch()
    raise RuntimeError(f"the service did not answer (attempt {ctx.attempt})")


@job("probe.bad_input", retries=5, backoff_s=0.1)
def bad_input(ctx: JobContext) -> None:
    raise PermanentJobError("no such document")


@job("probe.slow", retries=3, backoff_s=0.1, time_limit_s=0.5)
def slow(ctx: JobContext, *, dir: str) -> None:
    """Checks its time limit between steps; never ends by itself."""
    (Path(dir) / f"slow-{ctx.job_id}-{ctx.attempt}").touch()
    while True:
        ctx.check()
        time.sleep(0.02)


@job("probe.until_stopped", retries=0, time_limit_s=60)
def until_stopped(ctx: JobContext, *, dir: str) -> None:
    (Path(dir) / f"running-{ctx.job_id}").touch()
    while True:
        ctx.check()
        time.sleep(0.02)


@job("probe.block", retries=3, backoff_s=0.1, time_limit_s=120)
def block(ctx: JobContext, *, dir: str) -> None:
    """Says which worker started it, waits for ``release``, then makes its effect once."""
    base = Path(dir)
    (base / f"started-{ctx.job_id}-{os.getpid()}").touch()
    while not (base / "release").exists():
        ctx.check()
        time.sleep(0.05)
    _effect(base, f"effect-{ctx.job_id}")


def _effect(base: Path, name: str) -> None:
    """Idempotent effect: a file made at most once (O_EXCL); a second run finds it."""
    try:
        fd = os.open(base / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)


CALLS: list[str] = []


@batch_step("probe.item")
def item(ctx: JobContext, item: dict[str, Any]) -> None:
    CALLS.append(item["key"])
    if item.get("fail"):
        raise ValueError(f"{item['key']} has no address")
