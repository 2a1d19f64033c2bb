"""procrastinate 3.10 on SQLiteConnector: real apps, real tasks, real workers, one SQLite file.

Waits are bounded (``_WAIT_S``), never asserted on: a test fails if something does not
happen at all, not if it happens slowly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import procrastinate
import pytest
from procrastinate import exceptions, testing

from workflow.config import Settings
from workflow.jobs import sqlite_connector
from workflow.jobs.sqlite_connector import SQLiteConnector, create_schema
from workflow.jobs.sqlite_schema import SCHEMA_STATEMENTS
from workflow.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
_WAIT_S = 60  # only so that a broken worker cannot hang the suite; never reached


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "queue.sqlite3"
    conn = sqlite3.connect(path)
    try:
        create_schema(conn)
    finally:
        conn.close()
    return path


def _rows(db: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def _events(db: Path, job_id: int) -> list[str]:
    query = "SELECT type FROM procrastinate_events WHERE job_id = ? ORDER BY id"
    return [t for (t,) in _rows(db, query, job_id)]


async def _run_until(
    app: procrastinate.App, done: Callable[[], Awaitable[bool]], **options: Any
) -> None:
    """Run a worker of ``app`` until ``done()``, then stop it as a signal would."""
    options = {
        "wait": True,
        "install_signal_handlers": False,
        "fetch_job_polling_interval": 0.05,
        "abort_job_polling_interval": 0.05,
        **options,
    }
    worker = asyncio.create_task(app.run_worker_async(**options))
    deadline = time.monotonic() + _WAIT_S
    try:
        while not await done():
            if worker.done():
                worker.result()
                raise AssertionError("the worker stopped by itself")
            if time.monotonic() > deadline:
                raise AssertionError("not done within the bound")
            await asyncio.sleep(0.02)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def _all_in(app: procrastinate.App, *final: str) -> Callable[[], Awaitable[bool]]:
    async def done() -> bool:
        jobs = await app.job_manager.list_jobs_async()
        return all(job.status in final for job in jobs)

    return done


def _run_to_empty(app: procrastinate.App, **options: Any) -> None:
    app.run_worker(wait=False, install_signal_handlers=False, **options)


# --- defer and run ------------------------------------------------------------------------


def test_deferred_jobs_run_and_succeed_with_their_events(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))
    seen: list[int] = []

    @app.task(name="add")
    def add(a: int, b: int) -> None:
        seen.append(a + b)

    first = add.defer(a=1, b=2)  # sync defer, no app.open(): the connection opens on use
    later = add.configure(schedule_in={"hours": 1}).defer(a=10, b=20)
    _run_to_empty(app)

    assert seen == [3]
    jobs = {job.id: job for job in app.job_manager.list_jobs()}
    assert jobs[first].status == "succeeded"
    assert jobs[first].attempts == 1
    assert jobs[first].task_kwargs == {"a": 1, "b": 2}
    assert jobs[later].status == "todo"
    assert jobs[later].scheduled_at is not None
    assert jobs[later].scheduled_at > dt.datetime.now(dt.UTC)
    assert _events(db, first) == ["deferred", "started", "succeeded"]
    # The triggers fire in PostgreSQL's order (by name there: "scheduled" before "status").
    assert _events(db, later) == ["scheduled", "deferred"]
    assert app.check_connection()
    app.close()


def test_sync_defer_from_many_threads_while_a_worker_runs(db: Path) -> None:
    """The sync path from plain threads and the async path of a worker share one file."""
    app = procrastinate.App(connector=SQLiteConnector(db))
    ran: list[int] = []

    @app.task(name="note")
    async def note(n: int) -> None:
        ran.append(n)

    def defer_some(start: int) -> None:
        for n in range(start, start + 25):
            note.defer(n=n)

    async def scenario() -> None:
        threads = [threading.Thread(target=defer_some, args=(i * 25,)) for i in range(8)]
        for thread in threads:
            thread.start()

        async def done() -> bool:
            return not any(t.is_alive() for t in threads) and len(ran) == 200

        await _run_until(app, done, concurrency=4)
        for thread in threads:
            thread.join()

    asyncio.run(scenario())
    assert sorted(ran) == list(range(200))
    assert {job.status for job in app.job_manager.list_jobs()} == {"succeeded"}


def test_a_worker_in_the_same_process_is_woken_at_once(db: Path) -> None:
    """listen_notify in-process: with a one-hour polling interval, only the notification
    of the defer can wake the idle worker."""
    app = procrastinate.App(connector=SQLiteConnector(db))

    @app.task(name="wake")
    def wake() -> None:
        pass

    async def scenario() -> None:
        async def deferred_then_done() -> bool:
            if not await app.job_manager.list_jobs_async():
                if not sqlite_connector._listeners.get(os.path.realpath(db)):
                    return False  # the worker is not listening yet
                await asyncio.to_thread(wake.defer)  # from another thread, sync
                return False
            return await _all_in(app, "succeeded")()

        await _run_until(app, deferred_then_done, fetch_job_polling_interval=3600)

    asyncio.run(scenario())


# --- retry, failure -----------------------------------------------------------------------


def test_a_failing_task_is_tried_three_times_then_failed(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))
    runs: list[int] = []

    # procrastinate's max_attempts counts retries: 2 retries = 3 attempts.
    @app.task(name="flaky", retry=procrastinate.RetryStrategy(max_attempts=2, wait=0))
    def flaky() -> None:
        runs.append(1)
        raise RuntimeError("always")

    job_id = flaky.defer()
    _run_to_empty(app)

    assert len(runs) == 3
    (job,) = app.job_manager.list_jobs(status="failed")
    assert job.id == job_id
    assert job.attempts == 3
    assert _events(db, job_id) == [
        "deferred",
        "started",
        "scheduled",
        "deferred_for_retry",
        "started",
        "scheduled",
        "deferred_for_retry",
        "started",
        "failed",
    ]
    # A failed job may be retried by hand (procrastinate_retry_job_v2: failed -> todo).
    app.job_manager.retry_job_by_id(job_id, retry_at=dt.datetime.now(dt.UTC))
    assert app.job_manager.list_jobs(id=job_id)[0].status == "todo"
    assert _events(db, job_id)[-2:] == ["scheduled", "retried"]


def test_retry_with_backoff_schedules_the_next_attempt_later(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))

    @app.task(name="later", retry=procrastinate.RetryStrategy(max_attempts=3, wait=600))
    def later() -> None:
        raise RuntimeError("not yet")

    job_id = later.defer()
    before = dt.datetime.now(dt.UTC)
    _run_to_empty(app)  # one attempt; the retry is not due for 10 minutes

    (job,) = app.job_manager.list_jobs(id=job_id)
    assert job.status == "todo"
    assert job.attempts == 1
    assert job.scheduled_at is not None
    assert job.scheduled_at >= before + dt.timedelta(seconds=600)


# --- queueing_lock and lock ---------------------------------------------------------------


def test_queueing_lock_refuses_a_second_queued_job(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))

    @app.task(name="index", queueing_lock="index-7")
    def index() -> None:
        pass

    index.defer()
    with pytest.raises(exceptions.AlreadyEnqueued):
        index.defer()
    with pytest.raises(exceptions.AlreadyEnqueued):
        asyncio.run(index.defer_async())
    # A batch with a conflict inserts nothing (procrastinate_defer_jobs_v1 is one statement).
    other = app.configure_task("index", queueing_lock="index-8")
    with pytest.raises(exceptions.AlreadyEnqueued):
        other.batch_defer({}, {})
    assert len(app.job_manager.list_jobs()) == 1

    _run_to_empty(app)  # the lock only binds queued (todo) jobs
    index.defer()
    assert [job.status for job in app.job_manager.list_jobs()] == ["succeeded", "todo"]


def test_jobs_with_one_lock_never_run_at_once_and_keep_their_order(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))
    trace: list[tuple[str, int]] = []

    @app.task(name="step", lock="document-1")
    async def step(n: int) -> None:
        trace.append(("start", n))
        await asyncio.sleep(0.05)
        trace.append(("end", n))

    @app.task(name="free")
    async def free(n: int) -> None:
        trace.append(("free", n))

    for n in range(4):
        step.defer(n=n)
    free.defer(n=99)

    asyncio.run(_run_until(app, _all_in(app, "succeeded"), concurrency=4))

    locked = [entry for entry in trace if entry[0] != "free"]
    assert locked == [(event, n) for n in range(4) for event in ("start", "end")]
    assert ("free", 99) in trace


def test_fetch_order_matches_procrastinate_in_memory_connector(db: Path) -> None:
    """Priority first, then FIFO, and a lock held by a running job, as the reference."""

    async def fetch_order(connector: Any) -> list[str]:
        app = procrastinate.App(connector=connector)

        @app.task(name="t")
        def t(key: str) -> None:
            pass

        plan = [("a", 0, None), ("b", 5, None), ("c", 5, "L"), ("d", 0, "L"), ("e", 9, "L")]
        for key, priority, lock in plan:
            await t.configure(priority=priority, lock=lock).defer_async(key=key)
        async with app.open_async():
            worker_id = await app.job_manager.register_worker()
            order = []
            first = await app.job_manager.fetch_job(queues=None, worker_id=worker_id)
            assert first is not None
            order.append(first.task_kwargs["key"])
            while job := await app.job_manager.fetch_job(queues=None, worker_id=worker_id):
                order.append(str(job.task_kwargs["key"]))
            await app.job_manager.finish_job(first, procrastinate.jobs.Status.SUCCEEDED, False)
            while job := await app.job_manager.fetch_job(queues=None, worker_id=worker_id):
                order.append(str(job.task_kwargs["key"]))
        return order

    ours = asyncio.run(fetch_order(SQLiteConnector(db)))
    reference = asyncio.run(fetch_order(testing.InMemoryConnector()))
    assert ours == reference == ["e", "b", "a", "c"]


# --- cancel and abort ---------------------------------------------------------------------


def test_cancel_a_queued_job(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))
    ran: list[int] = []

    @app.task(name="never")
    def never() -> None:
        ran.append(1)

    job_id = never.defer()
    gone_id = never.defer()
    assert app.job_manager.cancel_job_by_id(job_id)
    assert app.job_manager.cancel_job_by_id(gone_id, delete_job=True)
    assert not app.job_manager.cancel_job_by_id(job_id)  # no longer todo
    _run_to_empty(app)

    assert ran == []
    assert [(job.id, job.status) for job in app.job_manager.list_jobs()] == [(job_id, "cancelled")]
    assert _events(db, job_id) == ["deferred", "cancelled"]
    assert app.job_manager.get_job_status(job_id).value == "cancelled"


@pytest.mark.parametrize("listen_notify", [True, False], ids=["notified", "polled"])
def test_abort_of_a_running_job_is_seen_by_should_abort(db: Path, listen_notify: bool) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))
    started = threading.Event()

    @app.task(name="long", pass_context=True)
    def long(context: procrastinate.JobContext) -> None:
        started.set()
        deadline = time.monotonic() + _WAIT_S
        while not context.should_abort():
            if time.monotonic() > deadline:
                return  # never aborted: the job succeeds and the test fails
            time.sleep(0.01)
        raise exceptions.JobAborted

    job_id = long.defer()

    async def scenario() -> None:
        requested: list[bool] = []

        async def aborted() -> bool:
            if started.is_set() and not requested:
                requested.append(await app.job_manager.cancel_job_by_id_async(job_id, abort=True))
            return (await app.job_manager.list_jobs_async(id=job_id))[0].status == "aborted"

        await _run_until(app, aborted, listen_notify=listen_notify)

    asyncio.run(scenario())
    (job,) = app.job_manager.list_jobs(id=job_id)
    assert (job.status, job.abort_requested, job.attempts) == ("aborted", False, 1)
    assert _events(db, job_id) == ["deferred", "started", "abort_requested", "aborted"]


# --- stalled jobs: a worker killed with SIGKILL -------------------------------------------


def test_a_job_of_a_killed_worker_is_found_stalled_and_retried(db: Path, tmp_path: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))
    ran: list[int] = []

    @app.task(name="block")
    def block() -> None:
        ran.append(1)

    job_id = block.defer()
    marker = tmp_path / "started"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.sqlite_worker_child", "block", str(db), str(marker)],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + _WAIT_S
        while not marker.exists():
            assert child.poll() is None, "the worker process died"
            assert time.monotonic() < deadline, "the child never started the job"
            time.sleep(0.02)
        # Alive and heartbeating: not stalled under procrastinate's default 30 s.
        assert list(asyncio.run(app.job_manager.get_stalled_jobs())) == []
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    (doing,) = app.job_manager.list_jobs(id=job_id)
    assert doing.status == "doing"
    assert doing.attempts == 0

    async def recover() -> list[procrastinate.jobs.Job]:
        deadline = time.monotonic() + _WAIT_S
        while not (
            stalled := list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=1))
        ):
            assert time.monotonic() < deadline, "the job never looked stalled"
            await asyncio.sleep(0.1)
        for job in stalled:
            await app.job_manager.retry_job(job)
        return stalled

    stalled = asyncio.run(recover())
    assert [job.id for job in stalled] == [job_id]
    _run_to_empty(app)

    assert ran == [1]
    (job,) = app.job_manager.list_jobs(id=job_id)
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert _events(db, job_id) == [
        "deferred",
        "started",
        "scheduled",
        "deferred_for_retry",
        "started",
        "succeeded",
    ]


def test_stale_workers_are_pruned_and_their_jobs_become_stalled(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))

    @app.task(name="x")
    def x() -> None:
        pass

    async def scenario() -> tuple[list[int], list[int]]:
        async with app.open_async():
            job_id = await x.defer_async()
            stale = await app.job_manager.register_worker()
            fresh = await app.job_manager.register_worker()
            assert await app.job_manager.fetch_job(queues=None, worker_id=stale) is not None
            await app.job_manager.update_heartbeat(fresh)
            stalled = [
                job.id
                for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=3600)
            ]
            assert stalled == []
            pruned = await app.job_manager.prune_stalled_workers(seconds_since_heartbeat=0)
            assert sorted(pruned) == sorted([stale, fresh])  # 0 s: any past heartbeat
            return [job_id], [job.id for job in await app.job_manager.get_stalled_jobs()]

    expected, stalled = asyncio.run(scenario())
    assert stalled == expected  # its worker is gone: worker_id NULL, still doing


# --- two worker processes on one file -----------------------------------------------------


def test_two_worker_processes_never_run_one_job_twice(db: Path, tmp_path: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))

    @app.task(name="append")
    def append() -> None:
        raise AssertionError("runs in the children only")

    job_ids = app.configure_task("append").batch_defer(*({} for _ in range(200)))
    app.close()
    out, go = tmp_path / "ran.txt", tmp_path / "go"
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.jobs.sqlite_worker_child",
                "append",
                str(db),
                str(out),
                str(go),
            ],
            cwd=ROOT,
        )
        for _ in range(2)
    ]
    go.touch()
    for child in children:
        assert child.wait(timeout=_WAIT_S) == 0

    lines = [line.split() for line in out.read_text(encoding="ascii").splitlines()]
    ran = sorted(int(job_id) for job_id, _pid in lines)
    assert ran == sorted(job_ids)  # each job exactly once
    statuses = _rows(db, "SELECT status, count(*) FROM procrastinate_jobs GROUP BY status")
    assert statuses == [("succeeded", 200)]
    print("jobs per process:", {pid: sum(1 for _, p in lines if p == pid) for _, pid in lines})


# --- periodic tasks -----------------------------------------------------------------------


def test_a_periodic_task_is_deferred_once_per_period_across_workers(db: Path) -> None:
    apps = [procrastinate.App(connector=SQLiteConnector(db)) for _ in range(2)]
    for app in apps:

        @app.periodic(cron="* * * * * *")  # every second (croniter's sixth field)
        @app.task(name="tick")
        def tick(timestamp: int) -> None:
            pass

    async def three_ticks() -> bool:
        jobs = await apps[0].job_manager.list_jobs_async(status="succeeded")
        return len(jobs) >= 3

    async def scenario() -> None:
        other = asyncio.create_task(_run_until(apps[1], _never))
        try:
            await _run_until(apps[0], three_ticks)
        finally:
            other.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await other

    asyncio.run(scenario())
    stamps = [job.task_kwargs["timestamp"] for job in apps[0].job_manager.list_jobs()]
    assert len(stamps) == len(set(stamps))  # never two jobs for one second
    defers = _rows(db, "SELECT task_name, defer_timestamp FROM procrastinate_periodic_defers")
    assert defers == [("tick", max(stamps))]  # older defers are deleted, as on PostgreSQL


async def _never() -> bool:
    return False


# --- deferring inside the caller's transaction --------------------------------------------


def test_defer_inside_the_callers_transaction_commits_or_rolls_back_with_it(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))

    @app.task(name="effect", queueing_lock="once")
    def effect() -> None:
        pass

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        effect.configure(connection=conn).defer()
        assert app.job_manager.list_jobs() == []  # not visible before commit
        conn.execute("ROLLBACK")
        assert app.job_manager.list_jobs() == []

        conn.execute("BEGIN IMMEDIATE")
        effect.configure(connection=conn).defer()
        with pytest.raises(exceptions.AlreadyEnqueued):
            effect.configure(connection=conn).defer()
        assert conn.in_transaction  # the refusal left the caller's transaction usable
        conn.execute("COMMIT")
    finally:
        conn.close()
    assert [job.status for job in app.job_manager.list_jobs()] == ["todo"]


# --- schema -------------------------------------------------------------------------------


def _schema_sql(path: Path) -> dict[str, str]:
    rows = _rows(
        path,
        "SELECT name, sql FROM sqlite_master WHERE name LIKE 'procrastinate%'"
        " OR name LIKE 'idx_procrastinate%'",
    )
    squeeze = [(r"\s+", " "), (r"\( ", "("), (r" \)", ")")]

    def normal(sql: str) -> str:
        for pattern, replacement in squeeze:
            sql = re.sub(pattern, replacement, sql)
        return sql.strip()

    return {name: normal(sql) for name, sql in rows if sql is not None}


def test_the_alembic_revision_creates_the_same_schema(db: Path, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret-for-sessions")
    upgrade(settings, "0003")
    migrated = settings.var_dir / "estrategia.sqlite3"
    assert migrated.exists()
    assert _schema_sql(migrated) == _schema_sql(db)
    assert len(_schema_sql(db)) == len(SCHEMA_STATEMENTS)
    app = procrastinate.App(connector=SQLiteConnector(migrated))
    assert app.check_connection()


def test_check_connection_and_apply_schema(tmp_path: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(tmp_path / "new.sqlite3"))
    assert not app.check_connection()
    app.schema_manager.apply_schema()
    assert app.check_connection()
    with pytest.raises(exceptions.ConnectorException):
        app.schema_manager.apply_schema()  # not twice
    app.close()
    assert os.path.exists(tmp_path / "new.sqlite3")


# --- the job manager's listings and clean-up ----------------------------------------------


def test_listings_count_per_queue_task_and_lock_and_old_jobs_are_deleted(db: Path) -> None:
    app = procrastinate.App(connector=SQLiteConnector(db))

    @app.task(name="a", queue="mail")
    def a() -> None:
        pass

    @app.task(name="b", queue="index", lock="doc-1")
    def b() -> None:
        pass

    a.defer()
    done_id = b.defer()
    _run_to_empty(app, queues=["index"])
    b.defer()

    queues = {q["name"]: q for q in app.job_manager.list_queues()}
    assert (queues["mail"]["jobs_count"], queues["mail"]["todo"]) == (1, 1)
    assert (queues["index"]["succeeded"], queues["index"]["todo"]) == (1, 1)
    assert [(t["name"], t["jobs_count"]) for t in app.job_manager.list_tasks()] == [
        ("a", 1),
        ("b", 2),
    ]
    assert [(lk["name"], lk["jobs_count"]) for lk in app.job_manager.list_locks()] == [("doc-1", 2)]

    asyncio.run(app.job_manager.delete_old_jobs(nb_hours=0))  # succeeded, any age
    assert done_id not in {job.id for job in app.job_manager.list_jobs()}
    assert len(app.job_manager.list_jobs()) == 2
    assert _rows(db, "SELECT count(*) FROM procrastinate_events WHERE job_id = ?", done_id) == [
        (0,)
    ]
