"""``estrategia archive ...``: the write-once archive from the command line.

    archive verify                      re-hash, re-validate offline, check the audit chain
    archive list [--due] [--as EMAIL]   records (due for disposal), newest first
    archive show ID [--as EMAIL]        one record as JSON
    archive hold ID --reason TEXT --as EMAIL
    archive release ID --as EMAIL
    archive dispose propose ID --reason TEXT [--consent REF] --as EMAIL
    archive dispose approve|reject|execute DISPOSAL_ID --as EMAIL
    archive import ...                  (``cli/archive_import.py``)

``verify`` exits 0 when everything is intact and 1 when it found problems, one line per
problem naming the record and its document. The steps that change the archive act as the
archivist or administrator ``--as`` names (a disposal needs two different people).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from workflow.cli.output import Exit
from workflow.config import Settings
from workflow.errors import ErrorCode, NotFound

if TYPE_CHECKING:
    from workflow.archive.verify import VerifyReport
    from workflow.identity.actors import Actor
    from workflow.runtime import Runtime


def _runtime(settings: Settings) -> Runtime:
    from workflow.migrate import require_migrated
    from workflow.runtime import build_runtime

    require_migrated(settings)
    return build_runtime(settings)


def _actor(rt: Runtime, email: str | None) -> Actor | None:
    if email is None:
        return None
    from sqlalchemy import select

    from workflow.db import transaction
    from workflow.identity.actors import load_actor
    from workflow.models import User

    with transaction(rt.read_sessions) as session:
        user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
        if user_id is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=email)
        return load_actor(session, user_id)


def _required_actor(rt: Runtime, email: str) -> Actor:
    actor = _actor(rt, email)
    assert actor is not None  # noqa: S101  # --as is required by the parser
    return actor


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.archive.verify import verify_archive
    from workflow.signing.verification import installed_trust

    rt = _runtime(settings)
    try:
        report = verify_archive(rt, installed_trust(settings))
    finally:
        rt.close()
    return print_verify_report(report)


def print_verify_report(report: VerifyReport) -> int:
    for sha in report.completed_files:
        print(f"completed {sha} (its record had committed; a crash came before the rename)")
    for record_id in report.finished_disposals:
        print(f"removed the file of disposed record {record_id} (a crash interrupted it)")
    for p in report.problems:
        where = (
            f"record {p.record_id} (document {p.document_id or '-'}, {p.title!r})"
            if p.record_id is not None
            else "audit chain"
        )
        print(f"PROBLEM {where}: {p.kind}: {p.detail}")
    verdict = "intact" if report.ok else f"{len(report.problems)} problem(s)"
    print(
        f"archive {verdict}: {report.checked} record(s) checked, "
        f"{report.audit_checked} audit record(s) in the chain"
    )
    return Exit.OK if report.ok else Exit.CHECK_FAILED


def _cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.archive.records import list_records
    from workflow.archive.retention import today

    rt = _runtime(settings)
    try:
        due = today() if args.due else None
        records = list_records(rt, actor=_actor(rt, args.as_email), due_on=due, limit=args.limit)
    finally:
        rt.close()
    if args.json:
        _print_json(records)
        return Exit.OK
    for r in records:
        ends = r["retention_ends_on"] or "forever"
        flags = " HOLD" if r["legal_hold"] else ""
        flags += " DISPOSED" if r["disposed_at"] else ""
        print(
            f"{r['id']:>6}  {r['jrwa_symbol']:<5} {r['category']:<2} {ends:<10} "
            f"{r['signature_status']:<13} {r['title']}{flags}"
        )
    print(f"{len(records)} record(s)" + (" due for disposal" if args.due else ""))
    return Exit.OK


def _cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.archive.records import get_record

    rt = _runtime(settings)
    try:
        _print_json(get_record(rt, actor=_actor(rt, args.as_email), record_id=args.id))
    finally:
        rt.close()
    return Exit.OK


def _cmd_hold(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.archive.records import release_legal_hold, set_legal_hold

    rt = _runtime(settings)
    try:
        actor = _required_actor(rt, args.as_email)
        if args.archive_command == "hold":
            set_legal_hold(rt, actor=actor, record_id=args.id, reason=args.reason)
            print(f"record {args.id} is under legal hold")
        else:
            release_legal_hold(rt, actor=actor, record_id=args.id)
            print(f"record {args.id}: legal hold released")
    finally:
        rt.close()
    return Exit.OK


def _cmd_dispose(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.archive import retention

    rt = _runtime(settings)
    try:
        actor = _required_actor(rt, args.as_email)
        step = args.dispose_command
        if step == "propose":
            done = retention.propose(
                rt, actor=actor, record_id=args.id, reason=args.reason, consent=args.consent
            )
        else:
            use = {"approve": retention.approve, "reject": retention.reject}
            done = use.get(step, retention.execute)(rt, actor=actor, disposal_id=args.id)
    finally:
        rt.close()
    print(f"disposal {done['id']} of record {done['record_id']}: {done['state']}")
    return Exit.OK


def _as_option(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--as",
        dest="as_email",
        metavar="EMAIL",
        required=required,
        help="act as this archivist or administrator"
        + ("" if required else " (default: every record, as the operator)"),
    )


def register(commands: Any) -> None:
    """Add ``archive ...`` to the parser's subcommands (``build_parser`` in cli/main.py)."""
    from workflow.cli import archive_import

    archive = commands.add_parser(
        "archive",
        help="the write-once archive",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).add_subparsers(dest="archive_command", required=True)
    archive.add_parser(
        "verify",
        help="re-hash every file, re-validate signatures offline, check the audit chain; "
        "exit 0 intact, 1 problems",
    ).set_defaults(func=_cmd_verify)
    listing = archive.add_parser("list", help="archive records, newest first")
    listing.add_argument("--due", action="store_true", help="only those due for disposal")
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--json", action="store_true", help="as JSON")
    _as_option(listing, required=False)
    listing.set_defaults(func=_cmd_list)
    show = archive.add_parser("show", help="one record as JSON")
    show.add_argument("id", type=int)
    _as_option(show, required=False)
    show.set_defaults(func=_cmd_show)
    hold = archive.add_parser("hold", help="put a record under legal hold")
    hold.add_argument("id", type=int)
    hold.add_argument("--reason", required=True)
    _as_option(hold, required=True)
    hold.set_defaults(func=_cmd_hold)
    release = archive.add_parser("release", help="release a record's legal hold")
    release.add_argument("id", type=int)
    _as_option(release, required=True)
    release.set_defaults(func=_cmd_hold)
    _register_dispose(archive)
    archive_import.register(archive)


def _register_dispose(archive: Any) -> None:
    steps = archive.add_parser("dispose", help="disposal: propose, approve, reject, execute")
    sub = steps.add_subparsers(dest="dispose_command", required=True)
    propose = sub.add_parser("propose", help="propose the disposal of a record due")
    propose.add_argument("id", type=int, metavar="RECORD_ID")
    propose.add_argument("--reason", required=True)
    propose.add_argument("--consent", help="the state archive's consent reference (BE)")
    _as_option(propose, required=True)
    for name, text in (
        ("approve", "approve a proposal (not its proposer)"),
        ("reject", "reject a proposal"),
        ("execute", "dispose of the record of an approved proposal: its file is removed"),
    ):
        step = sub.add_parser(name, help=text)
        step.add_argument("id", type=int, metavar="DISPOSAL_ID")
        _as_option(step, required=True)
    steps.set_defaults(func=_cmd_dispose)
