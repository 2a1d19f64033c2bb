"""A procrastinate worker process on a SQLite file, for tests/jobs/test_sqlite_connector.py.

    python -m tests.jobs.sqlite_worker_child append DB OUT GO   # run ``append`` jobs until none
    python -m tests.jobs.sqlite_worker_child block DB OUT        # run ``block`` jobs forever

``append`` waits until the file GO exists (so that two children start together), then
runs the jobs of task ``append`` (each appends "<job id> <pid>" to OUT) until the queue
is empty. ``block`` runs a worker that heartbeats every 0.2 s; its task ``block`` writes
its job id to OUT and then sleeps until the process is killed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import procrastinate

from workflow.jobs.sqlite_connector import SQLiteConnector

_GO_WAIT_S = 60  # only so that a broken parent cannot leave a child behind


def main(mode: str, database: str, out: str, go: str | None = None) -> None:
    app = procrastinate.App(connector=SQLiteConnector(database))

    @app.task(name="append", pass_context=True)
    def append(context: procrastinate.JobContext) -> None:
        with open(out, "a", encoding="ascii") as f:  # one short write: O_APPEND, atomic
            f.write(f"{context.job.id} {os.getpid()}\n")

    @app.task(name="block", pass_context=True)
    def block(context: procrastinate.JobContext) -> None:
        Path(out).write_text(str(context.job.id), encoding="ascii")
        time.sleep(3600)

    if mode == "append":
        assert go is not None
        deadline = time.monotonic() + _GO_WAIT_S
        while not Path(go).exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False)
    else:
        app.run_worker(
            wait=True,
            install_signal_handlers=False,
            fetch_job_polling_interval=0.1,
            update_heartbeat_interval=0.2,
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
