"""The job queue on both backends: defer, run, retry with backoff, fail visibly, time
limit, progress, cancel, dedup, the resumable batch and the ``jobs`` commands."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.jobs import probes
from workflow.config import Settings
from workflow.jobs import defer
from workflow.jobs.batch import _record, defer_batch, summary
from workflow.jobs.queue import JobQueue, JobView, queue_of, queue_ready
from workflow.migrate import upgrade
from workflow.runtime import build_runtime

FAST = {
    "poll_s": 0.1,
    "heartbeat_s": 0.5,
    "stalled_after_s": 2.0,
    "stalled_sweep_cron": "* * * * * */1",
    "embedded_worker": False,
}
PERSISTENT_SQLITE = importlib.util.find_spec("workflow.jobs.sqlite_connector") is not None


@pytest.fixture
def jobs_settings(settings: Settings) -> Settings:
    s = Settings(
        var_dir=settings.var_dir,
        storage={"database_url": settings.storage.database_url},
        secret_key="test-secret-for-sessions",
        jobs=FAST,
    )
    upgrade(s)
    return s


@pytest.fixture
def queue(jobs_settings: Settings) -> Iterator[JobQueue]:
    rt = build_runtime(jobs_settings)
    try:
        yield queue_of(rt)
    finally:
        rt.close()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


def drain(queue: JobQueue, *, until: Callable[[], bool] | None = None, within: float = 30) -> None:
    """Run a worker until no job waits (retries scheduled a moment later included)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        asyncio.run(queue.run_worker_async(wait=False, concurrency=2))
        waiting = queue.list_jobs(state="todo") + queue.list_jobs(state="doing")
        if until is not None and until():
            return
        if until is None and not [v for v in waiting if v.name.startswith("probe.")]:
            return
        time.sleep(0.1)
    raise AssertionError("the queue did not drain in time")


def state(queue: JobQueue, job_id: int) -> JobView:
    view = queue.get(job_id)
    assert view is not None
    return view


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ESTRATEGIA_VAR_DIR": str(settings.var_dir),
        "ESTRATEGIA_DATABASE_URL": settings.storage.database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "workflow.cli.main", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def needs_shared_queue(settings: Settings) -> None:
    if not settings.storage.database_url and not PERSISTENT_SQLITE:
        pytest.skip("SQLite keeps jobs in memory until SQLiteConnector lands")


def test_a_job_runs_and_its_progress_is_kept(queue: JobQueue, work: Path) -> None:
    job_id = defer(queue.rt, "probe.count", args={"n": 3, "dir": str(work)})
    assert state(queue, job_id).state == "todo"
    drain(queue)
    view = state(queue, job_id)
    assert (view.state, view.done, view.total, view.message, view.error) == (
        "succeeded", 3, 3, "step 3", None,
    )  # fmt: skip
    assert (work / f"count-{job_id}").exists()
    assert queue_ready(queue)


def test_retries_with_backoff_then_failed_with_its_error(queue: JobQueue, work: Path) -> None:
    job_id = defer(queue, "probe.flaky", args={"dir": str(work)})
    drain(queue)
    view = state(queue, job_id)
    assert view.state == "failed"
    assert view.error == "RuntimeError: the service did not answer (attempt 3)"
    assert sorted(p.name for p in work.iterdir()) == [f"flaky-{job_id}-{n}" for n in (1, 2, 3)]
    assert [v.id for v in queue.list_jobs(state="failed")] == [job_id]


def test_a_permanent_error_is_not_retried(queue: JobQueue) -> None:
    job_id = defer(queue, "probe.bad_input")
    drain(queue)
    view = state(queue, job_id)
    assert (view.state, view.attempts, view.error) == (
        "failed", 1, "PermanentJobError: no such document",
    )  # fmt: skip


def test_time_limit_fails_the_job_once(queue: JobQueue, work: Path) -> None:
    job_id = defer(queue, "probe.slow", args={"dir": str(work)})
    drain(queue)
    view = state(queue, job_id)
    assert view.state == "failed"
    assert view.error is not None and view.error.startswith("TimeLimitExceeded: ")
    assert "time limit 0.5 s exceeded" in view.error
    assert [p.name for p in work.iterdir()] == [f"slow-{job_id}-1"]  # not retried


def test_cancel_a_waiting_job_and_a_running_one(queue: JobQueue, work: Path) -> None:
    later = defer(queue, "probe.count", args={"n": 1, "dir": str(work)}, delay_s=3600)
    assert queue.cancel(later)
    assert state(queue, later).state == "cancelled"
    assert not queue.cancel(later)

    running = defer(queue, "probe.until_stopped", args={"dir": str(work)})

    async def run_then_cancel() -> None:
        worker = asyncio.create_task(queue.run_worker_async(concurrency=1))
        marker = work / f"running-{running}"
        for _ in range(300):
            if marker.exists():
                break
            await asyncio.sleep(0.05)
        assert marker.exists()
        await asyncio.to_thread(queue.cancel, running)
        for _ in range(300):
            if (await asyncio.to_thread(state, queue, running)).state != "doing":
                break
            await asyncio.sleep(0.05)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    asyncio.run(run_then_cancel())
    view = state(queue, running)
    assert view.state == "aborted"
    assert view.error is not None and "asked to stop" in view.error
    assert queue.retry(running)  # queued anew


def test_dedup_key_gives_the_waiting_job(queue: JobQueue, work: Path) -> None:
    args = {"n": 1, "dir": str(work)}
    first = defer(queue, "probe.count", args=args, dedup_key="count:1")
    assert defer(queue, "probe.count", args=args, dedup_key="count:1") == first
    drain(queue)
    assert defer(queue, "probe.count", args=args, dedup_key="count:1") != first


def test_batch_records_each_item_and_resumes(queue: JobQueue) -> None:
    items = [{"key": k} for k in "abcde"]
    items[3]["fail"] = True
    job_id = defer_batch(queue, "probe.item", items=items)
    # A previous run of this job finished a and b before its worker died.
    _record(queue.rt.engine, job_id, "a", None)
    _record(queue.rt.engine, job_id, "b", None)
    probes.CALLS.clear()
    drain(queue)
    assert probes.CALLS == ["c", "d", "e"]
    view = state(queue, job_id)
    assert (view.state, view.done, view.total) == ("succeeded", 5, 5)
    assert view.message == "4 done, 1 failed"
    result = summary(queue.rt.engine, job_id)
    assert result is not None
    assert (result.finished, result.failed) == (5, 1)
    assert result.errors == [("d", "ValueError: d has no address")]


def test_the_jobs_commands(queue: JobQueue, jobs_settings: Settings, work: Path) -> None:
    needs_shared_queue(jobs_settings)
    ok = defer(queue, "probe.count", args={"n": 4, "dir": str(work)})
    bad = defer(queue, "probe.flaky", args={"dir": str(work)})
    drain(queue)

    listed = cli(jobs_settings, "jobs", "list", "--state", "failed")
    assert listed.returncode == 0, listed.stderr
    assert str(bad) in listed.stdout and "the service did not answer" in listed.stdout
    assert f"\n{ok:>7} " not in listed.stdout

    shown = cli(jobs_settings, "jobs", "show", str(ok))
    assert shown.returncode == 0, shown.stderr
    assert "state:     succeeded" in shown.stdout
    assert "progress:  4/4 (100%) step 4" in shown.stdout
    as_json = json.loads(cli(jobs_settings, "jobs", "show", str(bad), "--json").stdout)
    assert as_json["state"] == "failed" and as_json["error"].startswith("RuntimeError")

    assert cli(jobs_settings, "jobs", "show", "999999").returncode == 2
    assert cli(jobs_settings, "jobs", "retry", str(ok)).returncode == 1  # succeeded
    retried = cli(jobs_settings, "jobs", "retry", str(bad))
    assert retried.returncode == 0, retried.stderr
    assert state(queue, bad).state == "todo"
    cancelled = cli(jobs_settings, "jobs", "cancel", str(bad))
    assert cancelled.returncode == 0, cancelled.stderr
    assert state(queue, bad).state == "cancelled"
    assert cli(jobs_settings, "jobs", "cancel", str(bad)).returncode == 1
