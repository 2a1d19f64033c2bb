"""PostgreSQL: two ``estrategia worker`` processes; the one running a job is killed with
SIGKILL; the other finishes the job after the stalled-job sweep; its effect happens once
and no other job is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.jobs import probes  # noqa: F401  (registers the probe jobs in this process)
from tests.pg import Cluster
from workflow.config import Settings
from workflow.jobs import defer
from workflow.jobs.queue import queue_of
from workflow.migrate import upgrade
from workflow.runtime import build_runtime

pytestmark = pytest.mark.postgres

WORKER = (
    "import sys, tests.jobs.probes; from workflow.cli.main import main; "
    "sys.exit(main(sys.argv[1:]))"
)


def _worker(url: str, var: Path, name: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ESTRATEGIA_DATABASE_URL": url,
        "ESTRATEGIA_VAR_DIR": str(var),
        "ESTRATEGIA_JOBS_POLL_S": "0.2",
        "ESTRATEGIA_JOBS_HEARTBEAT_S": "0.5",
        "ESTRATEGIA_JOBS_STALLED_AFTER_S": "2",
        "ESTRATEGIA_JOBS_STALLED_SWEEP_CRON": "* * * * * */1",
    }
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, "worker", "--concurrency", "1", "--name", name],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip


def _wait(condition: Callable[[], object], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkilled_workers_job_is_finished_by_the_other_once(
    pg_cluster: Cluster, tmp_path: Path
) -> None:
    pg_cluster.psql("CREATE DATABASE kill9")
    url = pg_cluster.url("kill9")
    settings = Settings(var_dir=tmp_path / "var", storage={"database_url": url},
                        jobs={"embedded_worker": False})  # fmt: skip
    upgrade(settings)
    work = tmp_path / "work"
    work.mkdir()
    rt = build_runtime(settings)
    workers = [_worker(url, tmp_path / "var", f"w{i}", tmp_path / f"w{i}.log") for i in (1, 2)]
    try:
        queue = queue_of(rt)
        blocked = defer(rt, "probe.block", args={"dir": str(work)})
        _wait(lambda: list(work.glob(f"started-{blocked}-*")), "the job to start")
        (started,) = work.glob(f"started-{blocked}-*")
        victim_pid = int(started.name.rsplit("-", 1)[1])
        victim = next(w for w in workers if w.pid == victim_pid)
        survivor = next(w for w in workers if w is not victim)
        others = [defer(rt, "probe.count", args={"n": 2, "dir": str(work)}) for _ in range(10)]

        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        (work / "release").touch()

        def finished() -> bool:
            view = queue.get(blocked)
            return view is not None and view.state == "succeeded"

        _wait(finished, "the other worker to finish the job", within=90)

        def all_done() -> bool:
            return all(getattr(queue.get(j), "state", None) == "succeeded" for j in others)

        _wait(all_done, "the other jobs")

        assert survivor.poll() is None  # still serving
        starts = sorted(p.name for p in work.glob(f"started-{blocked}-*"))
        assert starts == sorted(
            [f"started-{blocked}-{victim.pid}", f"started-{blocked}-{survivor.pid}"]
        )
        effects = list(work.glob("effect-*"))
        assert [p.name for p in effects] == [f"effect-{blocked}"]
        assert effects[0].read_text() == str(survivor.pid)
        assert len(list(work.glob("count-*"))) == len(others)  # nothing lost
        view = queue.get(blocked)
        assert view is not None and view.attempts >= 1
        assert view.error is None  # the last attempt succeeded
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        rt.close()
