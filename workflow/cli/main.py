"""``estrategia ...``: the command line, over the same use-cases as the web app."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workflow.cli.output import (
    EXIT_CODES_HELP,
    Exit,
    add_language_option,
    add_verbose_option,
    cli_language,
    configuration_problem,
    configured_logging,
    fail,
)
from workflow.config import Settings
from workflow.logs import use_log_format

if TYPE_CHECKING:
    from workflow.runtime import SigningFactory


def _cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from workflow.logs import install_logging
    from workflow.metrics import prepare_multiprocess

    # From INFO up (the access log), in the configured format; uvicorn's own loggers go
    # through the same handler (log_config=None) and its access log is ours instead.
    install_logging(log_format=settings.ops.log_format, verbose=args.verbose, service=True)
    prepare_multiprocess(settings)  # before the app, hence prometheus_client, is imported
    uvicorn.run(
        "workflow.web.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=_serve_workers(settings, args.workers),
        log_level="info",
        log_config=None,
        access_log=False,
    )
    return 0


def _serve_workers(settings: Settings, workers: int) -> int:
    """The number of app processes; on SQLite, a warning that writers take turns."""
    if workers > 1 and settings.effective_database_url.startswith("sqlite"):
        import logging

        logging.getLogger("workflow.cli").warning(
            "%d worker processes on SQLite: reads run in parallel, but writes are serialised "
            "(one writer at a time); use PostgreSQL (ESTRATEGIA_DATABASE_URL) for several "
            "writers or several machines",
            workers,
        )
    return workers


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.migrate import upgrade

    upgrade(settings, args.revision)
    print(f"database at revision {args.revision}: {_safe_url(settings)}")
    return 0


def _cmd_db_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.demo.data import DEMO_PASSWORD, PEOPLE, load_demo_data
    from workflow.runtime import build_runtime

    rt = build_runtime(settings)
    try:
        load_demo_data(rt)
    finally:
        rt.close()
    print(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for p in PEOPLE:
        roles = ", ".join(r.value for r in p.roles)
        print(f"  {p.email:<26} {p.full_name} — {p.function_title} [{roles}]")
    return 0


def _cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.cli.audit import run_verify

    return run_verify(settings, args)


def _cmd_audit_anchor(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.cli.audit import run_anchor

    return run_anchor(settings, args, _signing_factory(settings))


def _cmd_render(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.cli.render import render_to_file

    render_to_file(settings, template=args.template, data=args.data, out=args.out)
    print(f"wrote {args.out}")
    return 0


def _cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.demo.run import run_demo

    summary = run_demo(settings, Path(args.out))
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _cmd_pki_init(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.demo.pki import ensure_demo_pki

    if args.force and settings.pki_dir.exists():
        import shutil

        shutil.rmtree(settings.pki_dir)
    pki = ensure_demo_pki(settings)
    print(f"demo PKI (NOT FOR PRODUCTION) in {pki.directory}")
    print(f"  root certificate: {pki.cert_path('root')}")
    print(f"  TSA/OCSP/CRL served by the app on {pki.base_url}")
    for s in pki.signatories:
        print(f"  {s.key_id:<10} {s.full_name} — {s.function}: {pki.p12_path(s.key_id)}")
    return 0


def _cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.cli.verify import run

    return run(settings, args)


def _cmd_timestamps_renew(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from workflow.runtime import build_runtime
    from workflow.signing.renewal import renew_due_timestamps

    rt = build_runtime(settings, signing_factory=_signing_factory(settings))
    try:
        renewed, blocked = renew_due_timestamps(rt, margin=timedelta(days=args.within_days))
    finally:
        rt.close()
    for r in renewed:
        print(f"{r.reference}: archive timestamp renewed; valid until {r.now_expires_at:%Y-%m-%d}")
    for b in blocked:
        print(f"{b.reference}: NOT renewed (expires {b.expires_at:%Y-%m-%d}): {b.reason}")
    print(f"{len(renewed)} document(s) renewed, {len(blocked)} could not be")
    return 1 if blocked else 0


def _signing_factory(settings: Settings) -> SigningFactory:
    """Demo mode signs with the demo PKI (workflow.demo); production with the TSP's."""
    if settings.signing.demo:
        from workflow.demo.pki import open_demo_signing_environment

        return open_demo_signing_environment
    from workflow.signing.trust import open_signing_environment

    return open_signing_environment


def _safe_url(settings: Settings) -> str:
    url = settings.effective_database_url
    return url.split("@")[-1] if "@" in url else url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="estrategia",
        description=__doc__,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_verbose_option(parser, top_level=True)
    add_language_option(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the web application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="app processes (uvicorn workers); sessions, the login throttle and, with "
        "ESTRATEGIA_BLOB_BACKEND=database, stored files are shared through the database",
    )
    serve.set_defaults(func=_cmd_serve)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade", help="apply the Alembic migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_cmd_db_upgrade)
    seed = db.add_parser("seed-demo", help="load the demo data once and print the logins")
    seed.set_defaults(func=_cmd_db_seed_demo)

    au = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    ver = au.add_parser(
        "verify",
        help="exit 0 if the hash chain is intact and matches every TSA anchor, 1 otherwise",
    )
    ver.set_defaults(func=_cmd_audit_verify)
    anc = au.add_parser("anchor", help="timestamp the chain's head with the TSA now")
    anc.set_defaults(func=_cmd_audit_anchor)

    render = sub.add_parser("render", help="render a template with JSON data to .docx or .pdf")
    render.add_argument("--template", required=True, help="template name or path to a .docx")
    render.add_argument("--data", required=True, type=Path, help="JSON file with the values")
    render.add_argument("--out", required=True, type=Path, help="output .docx or .pdf")
    render.set_defaults(func=_cmd_render)

    pki = sub.add_parser("pki", help="the demo PKI").add_subparsers(
        dest="pki_command", required=True
    )
    init = pki.add_parser("init", help="make the demo CA hierarchy, TSA, OCSP, CRL and keys")
    init.add_argument("--force", action="store_true", help="replace an existing demo PKI")
    init.set_defaults(func=_cmd_pki_init)

    from workflow.cli import verify as verify_cli

    verify_cli.add_parser(sub).set_defaults(func=_cmd_verify)

    ts = sub.add_parser("timestamps", help="archive timestamps").add_subparsers(
        dest="timestamps_command", required=True
    )
    renew = ts.add_parser("renew", help="renew those expiring soon (run it regularly)")
    renew.add_argument("--within-days", type=int, default=365)
    renew.set_defaults(func=_cmd_timestamps_renew)

    demo = sub.add_parser("demo", help="run the Rybnik letter of intent through its lifecycle")
    demo.add_argument("--out", required=True, help="folder for the DOCX, PDF and audit trail")
    demo.set_defaults(func=_cmd_demo)

    from workflow.cli import blobs

    blobs.register(sub)
    from workflow.cli import jobs

    jobs.register(sub)
    from workflow.cli import archive

    archive.register(sub)
    from workflow.cli import search

    search.register(sub)
    _add_verbose_to_subcommands(parser)
    return parser


def _add_verbose_to_subcommands(parser: argparse.ArgumentParser) -> None:
    # argparse has no public way to list a parser's subcommands.
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                add_verbose_option(child, top_level=False)
                add_language_option(child, top_level=False)
                _add_verbose_to_subcommands(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code means what ``EXIT_CODES_HELP`` says."""
    args = build_parser().parse_args(argv)
    with configured_logging(verbose=args.verbose):
        try:
            settings = Settings()
        except ValueError as exc:  # an ESTRATEGIA_ variable is wrong
            print(f"error: configuration: {configuration_problem(exc)}", file=sys.stderr)
            return Exit.REFUSED
        use_log_format(settings.ops.log_format)
        try:
            return int(args.func(settings, args))
        except KeyboardInterrupt:
            return 130
        except Exception as exc:
            return fail(exc, cli_language(args))


if __name__ == "__main__":
    raise SystemExit(main())
