"""``estrategia blobs ...``: maintenance of the blob store (``workflow.storage``)."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta
from typing import Any

from workflow.config import Settings
from workflow.storage.gc import DEFAULT_MIN_AGE, collect_garbage

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``1h``, ``2d``."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration like 30m, 1h or 2d: {text!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _cmd_gc(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.runtime import build_runtime

    rt = build_runtime(settings)
    try:
        report = collect_garbage(rt, older_than=args.older_than, dry_run=args.dry_run)
    finally:
        rt.close()
    if report.backend == "database":
        print("blob store in the database: each file commits with its row, nothing to sweep")
        return 0
    verb = "would remove" if report.dry_run else "removed"
    completed = "would complete" if report.dry_run else "completed"
    for sha in report.completed:
        print(f"{completed} {sha} (its row had committed)")
    for path in report.removed_temporary:
        print(f"{verb} temporary {path}")
    for path in report.removed_unrecorded:
        print(f"{verb} unrecorded {path}")
    summary = (
        f"{len(report.completed)} {completed}, {len(report.removed_temporary)} temporary and "
        f"{len(report.removed_unrecorded)} unrecorded file(s) {verb} "
        f"(older than {args.older_than}); {report.kept_recent} recent kept"
    )
    if report.kept_recorded_meanwhile:
        summary += f", {report.kept_recorded_meanwhile} recorded meanwhile"
    print(summary + (" (dry run: nothing changed)" if report.dry_run else ""))
    return 0


def register(commands: Any) -> None:
    """Add ``blobs gc`` to the parser's subcommands (``build_parser`` in cli/main.py)."""
    blobs = commands.add_parser("blobs", help="the blob store").add_subparsers(
        dest="blobs_command", required=True
    )
    gc = blobs.add_parser(
        "gc",
        help="finish interrupted renames; remove temporary files and files no row records",
    )
    gc.add_argument(
        "--older-than",
        type=duration,
        default=DEFAULT_MIN_AGE,
        metavar="AGE",
        help="only files older than this (30m, 1h, 2d; default 1h)",
    )
    gc.add_argument(
        "--dry-run", action="store_true", help="print what would change, change nothing"
    )
    gc.set_defaults(func=_cmd_gc)
