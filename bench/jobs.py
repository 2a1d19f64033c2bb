"""Benchmark: jobs through the queue on PostgreSQL, 1 worker against 2, and the queue's own
cost per job.

    .venv/bin/python bench/jobs.py [--renders 200] [--empty 500]

Starts a throwaway PostgreSQL cluster (as tests/pg.py does), migrates it, then, each case
on a fresh queue:
- ``--renders`` render jobs (``jobs.render_pdf``: the Rybnik letter of intent rendered and
  converted to PDF/A-2b by the worker's warm LibreOffice) run by 1 ``estrategia worker``,
  then by 2 (separate processes, one LibreOffice each, concurrency 1 each);
- ``--empty`` empty jobs (``jobs.noop``) run by 1 worker: the queue's own overhead per job
  (fetch, the job_progress rows, finish), plus what ``defer`` costs the caller.
The jobs are deferred first; the workers run with ``--until-empty``. Throughput is over
the span from the first job started to the last finished (procrastinate_events), so it
excludes process start; "steady" also leaves out each worker's first job (LibreOffice
starting). Targets: overhead < 5 ms/job; 2 workers >= 1.7x one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pg import Cluster, start_cluster, stop_cluster  # noqa: E402
from workflow.config import Settings  # noqa: E402
from workflow.jobs import defer  # noqa: E402
from workflow.jobs.queue import queue_of  # noqa: E402
from workflow.migrate import upgrade  # noqa: E402
from workflow.runtime import build_runtime  # noqa: E402

EXAMPLE = ROOT / "templates" / "examples" / "list_intencyjny.rybnik.json"


def _case(cluster: Cluster, name: str, *, job: str, n: int, workers: int, tmp: Path) -> dict:
    cluster.psql(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    var = tmp / name
    settings = Settings(var_dir=var, storage={"database_url": url},
                        jobs={"embedded_worker": False})  # fmt: skip
    upgrade(settings)
    rt = build_runtime(settings)
    data = json.loads(EXAMPLE.read_text("utf-8"))
    out = tmp / f"{name}-out"
    try:
        queue = queue_of(rt)
        queue.app  # noqa: B018  (opened before timing: its pool, the handler imports)
        t0 = time.perf_counter()
        for i in range(n):
            if job == "jobs.render_pdf":
                args = {"template": "list_intencyjny", "data": data, "out": str(out / f"{i}.pdf")}
            else:
                args = {}
            defer(queue, job, args=args)
        defer_s = time.perf_counter() - t0
        env = {**os.environ, "ESTRATEGIA_DATABASE_URL": url, "ESTRATEGIA_VAR_DIR": str(var),
               "ESTRATEGIA_CONVERTER_PROCESSES": "1", "ESTRATEGIA_JOBS_POLL_S": "0.5"}  # fmt: skip
        t1 = time.perf_counter()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "workflow.cli.main",
                    "worker",
                    "--concurrency",
                    "1",
                    "--until-empty",
                    "--name",
                    f"{name}-{w}",
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for w in range(workers)
        ]
        for p in procs:
            _, err = p.communicate(timeout=3600)
            if p.returncode != 0:
                raise SystemExit(f"worker failed: {err.decode()[-2000:]}")
        wall_s = time.perf_counter() - t1
        views = queue.list_jobs(limit=n + 100)
        jobs = [v for v in views if v.name == job]
        bad = [v for v in jobs if v.state != "succeeded"]
        if len(jobs) != n or bad:
            raise SystemExit(f"{name}: {len(bad)} of {len(jobs)} jobs not succeeded: {bad[:3]}")
        with rt.engine.connect() as conn:
            from sqlalchemy import text

            start, end = conn.execute(text(
                "SELECT min(at) FILTER (WHERE type = 'started'),"
                " max(at) FILTER (WHERE type = 'succeeded') FROM procrastinate_events"
                " JOIN procrastinate_jobs j ON j.id = job_id WHERE j.task_name = :t"
            ), {"t": job}).one()  # fmt: skip
            ends: list[datetime] = sorted(
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT at FROM procrastinate_events JOIN procrastinate_jobs j"
                        " ON j.id = job_id WHERE type = 'succeeded' AND j.task_name = :t"
                    ),
                    {"t": job},
                )
            )
        span_s = (end - start).total_seconds()
        steady_from = ends[workers - 1]
        steady_n = n - workers
        steady_s = (end - steady_from).total_seconds()
        return {
            "case": name, "job": job, "n": n, "workers": workers,
            "defer_ms": 1000 * defer_s / n, "wall_s": wall_s, "span_s": span_s,
            "per_s": n / span_s, "steady_per_s": steady_n / steady_s if steady_s else 0.0,
            "ms_per_job": 1000 * span_s / n,
        }  # fmt: skip
    finally:
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--empty", type=int, default=500)
    args = parser.parse_args()
    cluster = start_cluster()
    tmp = Path(tempfile.mkdtemp(prefix="estrategia-bench-jobs-"))
    try:
        rows = [
            _case(cluster, "empty1", job="jobs.noop", n=args.empty, workers=1, tmp=tmp),
            _case(cluster, "render1", job="jobs.render_pdf", n=args.renders, workers=1, tmp=tmp),
            _case(cluster, "render2", job="jobs.render_pdf", n=args.renders, workers=2, tmp=tmp),
        ]
    finally:
        stop_cluster(cluster)
    print(f"{'case':<9}{'jobs':>6}{'workers':>8}{'defer ms/job':>14}{'span s':>9}"
          f"{'jobs/s':>9}{'steady jobs/s':>15}{'ms/job':>9}{'wall s':>9}")  # fmt: skip
    for r in rows:
        print(f"{r['case']:<9}{r['n']:>6}{r['workers']:>8}{r['defer_ms']:>14.2f}"
              f"{r['span_s']:>9.2f}{r['per_s']:>9.1f}{r['steady_per_s']:>15.1f}"
              f"{r['ms_per_job']:>9.2f}{r['wall_s']:>9.2f}")  # fmt: skip
    empty, one, two = rows
    print(f"\nqueue overhead per job (empty job, 1 worker): {empty['ms_per_job']:.2f} ms "
          f"(target < 5 ms); defer: {empty['defer_ms']:.2f} ms")  # fmt: skip
    print(f"2 workers / 1 worker: {two['per_s'] / one['per_s']:.2f}x over the span, "
          f"{two['steady_per_s'] / one['steady_per_s']:.2f}x steady (target >= 1.7x)")  # fmt: skip


if __name__ == "__main__":
    main()
