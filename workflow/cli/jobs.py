"""``estrategia worker`` and ``estrategia jobs list|show|retry|cancel``: the job queue.

Exit codes: 0 done (``list``, ``show``: printed; ``retry``/``cancel``: done); 1 the job
is not in a state that allows it (``retry``: it has not failed, been cancelled or aborted;
``cancel``: it is neither waiting nor running); 2 no such job, or wrong arguments; 3 the
queue (its database) does not answer. ``worker`` runs until SIGINT/SIGTERM, finishing the
jobs it is running, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from workflow.cli.output import Exit
from workflow.config import Settings

if TYPE_CHECKING:
    from workflow.jobs.queue import JobQueue, JobView


@contextmanager
def _queue(settings: Settings, *, signing: bool = False) -> Iterator[JobQueue]:
    from workflow.jobs.queue import queue_of
    from workflow.runtime import build_runtime

    factory = None
    if signing:
        from workflow.cli.main import _signing_factory

        factory = _signing_factory(settings)
    rt = build_runtime(settings, signing_factory=factory)
    try:
        yield queue_of(rt)
    finally:
        rt.close()


def _unavailable(run: Callable[[Settings, argparse.Namespace], int]) -> Any:
    """Exit 3 with one line when the queue's database does not answer."""

    def wrapped(settings: Settings, args: argparse.Namespace) -> int:
        from procrastinate.exceptions import ConnectorException

        try:
            return run(settings, args)
        except ConnectorException as exc:
            cause = exc.__cause__ or exc
            print(f"error: the job queue does not answer: {cause}", file=sys.stderr)
            return Exit.UNAVAILABLE

    return wrapped


def _progress(v: JobView) -> str:
    if v.done is None:
        return "-"
    text = f"{v.done}/{v.total}" if v.total is not None else str(v.done)
    if v.total:
        text += f" ({100 * v.done // v.total}%)"
    return text


@_unavailable
def _cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.jobs.queue import SWEEP_TASK

    with _queue(settings) as queue:
        views = queue.list_jobs(state=args.state, limit=args.limit)
    if not args.all:
        views = [v for v in views if v.name != SWEEP_TASK]
    if args.json:
        print(json.dumps([_as_json(v) for v in views], ensure_ascii=False, indent=2))
        return Exit.OK
    print(f"{'id':>7}  {'state':<10} {'tries':>5}  {'progress':<16} {'job':<28} message / error")
    for v in views:
        note = v.error if v.state in ("failed", "aborted") and v.error else v.message
        if v.over_time_limit:
            note = f"[over its time limit] {note}"
        print(f"{v.id:>7}  {v.state:<10} {v.attempts:>5}  {_progress(v):<16} {v.name:<28} {note}")
    return Exit.OK


def _no_such_job(job_id: int) -> int:
    print(f"error: no job {job_id}", file=sys.stderr)
    return Exit.REFUSED


@_unavailable
def _cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.jobs.batch import BATCH_JOB, summary

    with _queue(settings) as queue:
        view = queue.get(args.id)
        batch = summary(queue.rt.engine, args.id) if view and view.name == BATCH_JOB else None
    if view is None:
        return _no_such_job(args.id)
    if args.json:
        print(json.dumps(_as_json(view), ensure_ascii=False, indent=2))
        return Exit.OK
    print(f"job {view.id}: {view.name} on queue {view.queue}")
    print(f"  state:     {view.state}")
    print(f"  attempts:  {view.attempts}")
    print(f"  args:      {json.dumps(view.args, ensure_ascii=False)}")
    print(f"  progress:  {_progress(view)}" + (f" {view.message}" if view.message else ""))
    if view.started_at is not None:
        print(f"  started:   {view.started_at:%Y-%m-%d %H:%M:%S} UTC (this attempt)")
    if view.updated_at is not None:
        print(f"  updated:   {view.updated_at:%Y-%m-%d %H:%M:%S} UTC")
    if view.over_time_limit:
        print("  warning:   running past its time limit (it stops at its next check)")
    if view.error:
        print(f"  error:     {view.error}")
    if batch is not None:
        print(f"  items:     {batch.finished} finished, {batch.failed} failed")
        for key, error in batch.errors:
            print(f"    {key}: {error}")
    return Exit.OK


@_unavailable
def _cmd_retry(settings: Settings, args: argparse.Namespace) -> int:
    with _queue(settings) as queue:
        view = queue.get(args.id)
        if view is None:
            return _no_such_job(args.id)
        if not queue.retry(args.id):
            print(f"job {args.id} is {view.state}: only a failed, cancelled or aborted job "
                  "can be retried")  # fmt: skip
            return Exit.CHECK_FAILED
    how = "queued again" if view.state == "failed" else "queued anew as a new job"
    print(f"job {args.id} ({view.name}) {how}")
    return Exit.OK


@_unavailable
def _cmd_cancel(settings: Settings, args: argparse.Namespace) -> int:
    with _queue(settings) as queue:
        view = queue.get(args.id)
        if view is None:
            return _no_such_job(args.id)
        if not queue.cancel(args.id):
            print(f"job {args.id} is {view.state}: only a waiting or running job can be "
                  "cancelled")  # fmt: skip
            return Exit.CHECK_FAILED
    if view.state == "doing":
        print(f"job {args.id} ({view.name}): asked to stop; it stops at its next check")
    else:
        print(f"job {args.id} ({view.name}) cancelled")
    return Exit.OK


@_unavailable
def _cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    # procrastinate's worker logs each job at INFO: keep them even without -v.
    logging.getLogger("procrastinate").setLevel(logging.INFO if args.verbose else logging.WARNING)
    name = args.name or f"{socket.gethostname()}:{os.getpid()}"
    with _queue(settings, signing=True) as queue:
        print(f"worker {name}: {queue.backend} queue, concurrency "
              f"{args.concurrency or settings.jobs.concurrency}, queues "
              f"{','.join(args.queues) if args.queues else 'all'}", flush=True)  # fmt: skip
        queue.run_worker(concurrency=args.concurrency, queues=args.queues, name=name,
                         wait=not args.until_empty)  # fmt: skip
    return Exit.OK


def _as_json(v: JobView) -> dict[str, Any]:
    return {
        "id": v.id, "name": v.name, "queue": v.queue, "state": v.state,
        "attempts": v.attempts, "args": dict(v.args), "done": v.done, "total": v.total,
        "message": v.message, "error": v.error, "over_time_limit": v.over_time_limit,
        "started_at": v.started_at.isoformat() if v.started_at else None,
        "updated_at": v.updated_at.isoformat() if v.updated_at else None,
    }  # fmt: skip


def register(commands: Any) -> None:
    """Add ``worker`` and ``jobs ...`` to the parser's subcommands (cli/main.py)."""
    from workflow.jobs.queue import STATES

    worker = commands.add_parser(
        "worker", help="run queued jobs (PostgreSQL: as many as you like, on any machine)"
    )
    worker.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="jobs run at once (default: ESTRATEGIA_JOBS_CONCURRENCY)")  # fmt: skip
    worker.add_argument("--queues", nargs="+", default=None, metavar="QUEUE",
                        help="only these queues (default: all)")  # fmt: skip
    worker.add_argument("--name", default=None, help="in the logs (default: host:pid)")
    worker.add_argument("--until-empty", action="store_true",
                        help="stop when no job is waiting (tests, benchmarks)")  # fmt: skip
    worker.set_defaults(func=_cmd_worker)

    jobs = commands.add_parser("jobs", help="the job queue: list, show, retry, cancel")
    sub = jobs.add_subparsers(dest="jobs_command", required=True)
    ls = sub.add_parser("list", help="newest first, with progress and errors")
    ls.add_argument("--state", choices=STATES, default=None)
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--all", action="store_true", help="include the stalled-job sweeps")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_cmd_list)
    show = sub.add_parser("show", help="one job: state, attempts, progress, error")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_cmd_show)
    retry = sub.add_parser("retry", help="queue a failed (or cancelled, aborted) job again")
    retry.add_argument("id", type=int)
    retry.set_defaults(func=_cmd_retry)
    cancel = sub.add_parser("cancel", help="cancel a waiting job; ask a running one to stop")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(func=_cmd_cancel)
