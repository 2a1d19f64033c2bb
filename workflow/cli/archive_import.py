"""``estrategia archive import FILE.pdf|DIR/ [--meta FILE.json] [--as EMAIL]``: agreements
signed before this system, into the archive (``workflow.archive.importing``).

A folder: every ``*.pdf`` in it (not its subfolders), in name order, each with the
metadata of ``NAME.json`` beside ``NAME.pdf`` when there is one; a progress bar on a
terminal; then one line per file — imported, already archived, or failed and why — and a
count. One file: ``--meta``, else ``NAME.json`` beside it. Exit status: 0 when every file
is in the archive (imported now or before), 1 when some file failed (a folder), 2 when
the one file given was refused or the arguments are wrong.

Who imports: ``--as EMAIL`` (an archivist or administrator; the record's owner is their
organisation), else the system (owner: the e-Izba head office). Either way every import is
an ``archive.record`` audit record. A scan is OCRed by a job (``archive.ocr``) queued here
after its import committed: a running worker (``estrategia serve`` or ``worker``) does it.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from workflow.cli.output import Exit, cli_language
from workflow.config import Settings
from workflow.errors import ErrorCode, EstrategiaError, InvalidInput

if TYPE_CHECKING:
    from signatures import TrustSettings
    from workflow.archive.importing import ImportOutcome
    from workflow.identity.actors import Actor
    from workflow.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    path: Path
    outcome: ImportOutcome | None = None
    error: str | None = None


def pdfs_in(folder: Path) -> list[Path]:
    """The ``*.pdf`` files of ``folder`` (any case), in name order."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".pdf" and p.is_file())


def read_meta(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; ``InvalidInput("meta")`` naming the file otherwise."""
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            "meta", ErrorCode.DATA_FILE_UNREADABLE, path=str(path), detail=str(exc)
        ) from exc
    if not isinstance(raw, dict):
        raise InvalidInput("meta", ErrorCode.DATA_NOT_OBJECT)
    return raw


def read_pdf(path: Path, limit: int) -> bytes:
    """The bytes of ``path``; a file over ``limit`` is refused before it is read."""
    if path.stat().st_size > limit:
        raise InvalidInput("file", ErrorCode.FILE_TOO_LARGE, limit=limit)
    return path.read_bytes()


def import_file(
    rt: Runtime,
    path: Path,
    *,
    meta_path: Path | None,
    actor: Actor | None,
    trust: TrustSettings | None = None,
) -> ImportOutcome:
    """Import one file and queue its OCR when it is a scan."""
    from workflow.archive.importing import import_pdf

    sidecar = path.with_suffix(".json")
    meta_file = meta_path or (sidecar if sidecar.is_file() else None)
    meta = read_meta(meta_file) if meta_file is not None else None
    pdf = read_pdf(path, rt.settings.max_upload_bytes)
    outcome = import_pdf(rt, pdf=pdf, file_name=path.name, meta=meta, actor=actor, trust=trust)
    if outcome.needs_ocr:
        _queue_ocr(rt, outcome.record_id)
    return outcome


def _queue_ocr(rt: Runtime, record_id: int) -> None:
    from workflow.jobs.handlers.ocr import queue_ocr

    try:
        queue_ocr(rt, record_id)
    except Exception:  # the queue is down: the sweep (archive.ocr_sweep) queues it later
        log.exception("archive record %s: OCR not queued now; the hourly sweep will", record_id)


def import_folder(
    rt: Runtime,
    paths: list[Path],
    *,
    actor: Actor | None,
    lang: str,
    out: TextIO,
    trust: TrustSettings | None = None,
) -> list[FileResult]:
    """Import each file; one failure does not stop the others."""
    from signatures.errors import SignatureError
    from workflow.i18n import render_message
    from workflow.signing.errors import coded

    bar = Progress(len(paths), out) if out.isatty() else None
    results = []
    for done, path in enumerate(paths, start=1):
        try:
            outcome = import_file(rt, path, meta_path=None, actor=actor, trust=trust)
            results.append(FileResult(path, outcome))
        except EstrategiaError as exc:
            results.append(FileResult(path, error=exc.message(lang)))
        except SignatureError as exc:
            c = coded(exc)
            results.append(FileResult(path, error=render_message(c.code, c.params, lang)))
        except OSError as exc:
            results.append(FileResult(path, error=f"{exc.strerror or exc}"))
        except Exception as exc:  # a bug: logged with its traceback, the others go on
            log.exception("import of %s failed", path)
            results.append(FileResult(path, error=f"unexpected error: {type(exc).__name__}"))
        if bar is not None:
            bar.show(done, path.name)
    if bar is not None:
        bar.close()
    return results


class Progress:
    """``[#####.....]  12/500  name.pdf`` on one terminal line."""

    WIDTH = 30

    def __init__(self, total: int, out: TextIO) -> None:
        self.total = max(total, 1)
        self.out = out

    def show(self, done: int, label: str) -> None:
        filled = self.WIDTH * done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.out.write(f"\r[{bar}] {done:>5}/{self.total}  {label[:40]:<40}")
        self.out.flush()

    def close(self) -> None:
        self.out.write("\n")
        self.out.flush()


def describe(outcome: ImportOutcome) -> str:
    if outcome.already_archived:
        return f"already archived as record {outcome.record_id}"
    text = {"ocr_pending": "scan: OCR queued", "none": "no text read"}.get(
        outcome.text_status, "text layer read"
    )
    line = f"imported as record {outcome.record_id}; signatures: {outcome.signature_status}"
    if outcome.pades_level:
        line += f" ({outcome.pades_level})"
    line += f"; {text}"
    if outcome.problems:
        line += "; " + " | ".join(outcome.problems[:3])
    return line


def report(results: list[FileResult], out: TextIO) -> int:
    """One line per file, then the counts; the exit status."""
    for r in results:
        if r.outcome is not None and r.outcome.already_archived:
            print(f"already there  {r.path.name}: {describe(r.outcome)}", file=out)
        elif r.outcome is not None:
            print(f"imported       {r.path.name}: {describe(r.outcome)}", file=out)
    failed = [r for r in results if r.error is not None]
    for r in failed:
        print(f"FAILED         {r.path.name}: {r.error}", file=out)
    new = sum(1 for r in results if r.outcome is not None and not r.outcome.already_archived)
    old = sum(1 for r in results if r.outcome is not None and r.outcome.already_archived)
    print(f"{new} imported, {old} already archived, {len(failed)} failed", file=out)
    return Exit.CHECK_FAILED if failed else Exit.OK


def _actor(rt: Runtime, email: str | None) -> Actor | None:
    if email is None:
        return None
    from sqlalchemy import select

    from workflow.db import transaction
    from workflow.errors import NotFound
    from workflow.identity.actors import load_actor
    from workflow.models import User

    with transaction(rt.read_sessions) as session:
        user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
        if user_id is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=email)
        return load_actor(session, user_id)


def _runtime(settings: Settings) -> Runtime:
    from workflow.migrate import require_migrated
    from workflow.runtime import build_runtime

    require_migrated(settings)
    return build_runtime(settings)


def import_trust(settings: Settings) -> TrustSettings:
    """The installation's trust, read from files (as ``estrategia verify`` and ``archive
    verify``: no service started, no PKI made); none configured: nobody is trusted, so a
    signature is at best ``indeterminate``."""
    from signatures import TrustSettings
    from workflow.signing.verification import installed_trust

    return installed_trust(settings) or TrustSettings(trust_roots=())


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.path
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    if path.is_dir() and args.meta is not None:
        raise InvalidInput("meta", ErrorCode.ARCHIVE_IMPORT_META_FOR_FOLDER)
    rt = _runtime(settings)
    try:
        actor = _actor(rt, args.as_email)
        trust = import_trust(settings)
        if not path.is_dir():
            outcome = import_file(rt, path, meta_path=args.meta, actor=actor, trust=trust)
            label = "already there " if outcome.already_archived else "imported      "
            print(f"{label} {path.name}: {describe(outcome)}")
            return Exit.OK
        results = import_folder(
            rt, pdfs_in(path), actor=actor, lang=cli_language(args), out=sys.stderr, trust=trust
        )
        return report(results, sys.stdout)
    finally:
        rt.close()


def register(archive_commands: Any) -> None:
    """Add ``import`` to the subcommands of ``estrategia archive`` (``cli/archive.py``)."""
    imp = archive_commands.add_parser(
        "import",
        help="import agreements signed elsewhere: one PDF, or every PDF of a folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("path", type=Path, metavar="FILE.pdf|DIR", help="a PDF or a folder")
    imp.add_argument(
        "--meta",
        type=Path,
        metavar="FILE.json",
        help="metadata for one file (default: NAME.json beside NAME.pdf, if any)",
    )
    imp.add_argument(
        "--as",
        dest="as_email",
        metavar="EMAIL",
        help="import as this archivist or administrator (default: the system)",
    )
    imp.set_defaults(func=cmd_import)
