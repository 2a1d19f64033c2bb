"""``estrategia verify FILE.pdf`` and ``estrategia verify --evidence PACKAGE.zip``: every
signature and timestamp of a PDF, checked; or an archive's evidence package, from itself.

Reads only: it creates no file and no directory, starts no service, and does not need the
database. Whom it trusts: the roots given with ``--trust``/``--tsa-trust``; otherwise the
installation's (the demo PKI under ``var/pki`` if one was made, or
``ESTRATEGIA_TRUST_ROOTS`` in production); otherwise nobody: integrity and structure are
still checked and reported, but no signature can be valid (exit 1), and the report says
why. The human-readable report is in Polish; ``--json`` gives ``ValidationReport.to_dict()``.

``--evidence``: the package's manifest, then its PDF against the anchors inside the package
only (``workflow.archive.evidence_check``). ``--at`` moves the validation clock (the
process's clock too, for pyHanko's past validation: see ``signatures.longterm``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from signatures import TrustSettings, ValidationReport
from workflow.cli.output import EXIT_CODES_HELP, Exit, cli_language
from workflow.config import Settings
from workflow.errors import ErrorCode, InvalidInput
from workflow.polish.formatting import format_datetime_long

HELP = """\
Validate every signature and document timestamp of a PDF (PAdES, offline: only what the
file embeds). Reads the file only: creates nothing, starts nothing, needs no database.

an evidence package (--evidence PACKAGE.zip, made by the archive): its manifest of SHA-256
sums, then its PDF against the certificates inside the package only (zaufane/*.pem), never
this installation's and never the network; --trust/--tsa-trust are refused with it.

--at moves the validation clock: 2038-06-30, 2038-06-30T12:00:00+02:00, or +3y / +90d from
now. Validity years later rests on the newest archive timestamp, and so on its TSA's
certificate: trust it with --tsa-trust TSA.pem (an evidence package carries it).

whom it trusts (a PDF):
  --trust/--tsa-trust given: exactly those certificates;
  otherwise this installation's roots: the demo PKI in $ESTRATEGIA_VAR_DIR/pki (var/pki)
  if `estrategia pki init` made one, or $ESTRATEGIA_TRUST_ROOTS when ESTRATEGIA_DEMO=false;
  otherwise nobody: integrity is still checked and reported, but no signature can be
  valid (exit 1), and the report says so.
"""

EPILOG = """\
exit codes:
  0  every signature and timestamp is valid (a package: VALID)
  1  the PDF or package was read, and is not valid (see the report and the reasons)
  2  the file is missing, is not a readable PDF or package, a --trust file cannot be read,
     or the arguments are wrong (a bad --at, --trust with --evidence)
"""

__all__ = ["EXIT_CODES_HELP", "add_parser", "parse_moment", "print_report", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``verify`` subcommand on ``sub`` (the top-level subparsers)."""
    verify: argparse.ArgumentParser = sub.add_parser(
        "verify",
        help="validate the signatures of a PDF (exit 0 valid, 1 not valid, 2 unreadable)",
        description=HELP,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("file", type=Path, nargs="?", help="the PDF to verify")
    verify.add_argument(
        "--evidence",
        type=Path,
        metavar="PACKAGE.zip",
        help="verify an archive evidence package from itself alone (instead of a PDF)",
    )
    verify.add_argument(
        "--at",
        type=parse_moment,
        metavar="WHEN",
        help="validate as of this time: a date, an ISO datetime, or +Ny / +Nd from now",
    )
    verify.add_argument(
        "--trust",
        action="append",
        type=Path,
        default=[],
        metavar="ROOT.pem",
        help="trust this root certificate for signers (repeatable)",
    )
    verify.add_argument(
        "--tsa-trust",
        action="append",
        type=Path,
        default=[],
        metavar="TSA.pem",
        help="trust this certificate as an anchor for timestamps (repeatable)",
    )
    verify.add_argument("--json", action="store_true", help="the full report as JSON")
    return verify


def parse_moment(text: str) -> datetime:
    """``--at``: ``2038-06-30`` (noon UTC), an ISO datetime (UTC unless it says), or
    ``+3y`` / ``+90d`` from now (a year: 365 days)."""
    text = text.strip()
    relative = re.fullmatch(r"\+(\d{1,4})([yd])", text)
    if relative:
        n, unit = int(relative[1]), relative[2]
        return datetime.now(UTC) + timedelta(days=n * 365 if unit == "y" else n)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time(12), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date, an ISO datetime or +Ny/+Nd: {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _trust(settings: Settings, args: argparse.Namespace) -> TrustSettings | None:
    from workflow.signing.verification import installed_trust

    if not (args.trust or args.tsa_trust):
        return installed_trust(settings)
    try:
        return TrustSettings.from_pem_files(args.trust, tsa_trust_roots=args.tsa_trust)
    except OSError as exc:
        raise InvalidInput(
            "trust", ErrorCode.FILE_UNREADABLE, path=exc.filename, detail=exc.strerror
        ) from exc
    except ValueError as exc:
        raise InvalidInput("trust", ErrorCode.NOT_A_CERTIFICATE, detail=str(exc)) from exc


def _validate(pdf: bytes, trust: TrustSettings, at: datetime | None) -> ValidationReport:
    from signatures import UnreadablePdf
    from signatures.longterm import validate_pdf_at
    from workflow.signing.verification import verify_bytes

    if at is None:
        return verify_bytes(pdf, trust=trust)
    try:
        return validate_pdf_at(pdf, trust=trust, when=at)
    except UnreadablePdf as exc:
        raise InvalidInput("file", ErrorCode.PDF_UNREADABLE, detail=str(exc)) from exc


def run(settings: Settings, args: argparse.Namespace) -> int:
    """``estrategia verify``: the report on stdout; errors as one line on stderr."""
    lang = cli_language(args)
    if (args.file is None) == (args.evidence is None):
        print("error: give either a PDF or --evidence PACKAGE.zip", file=sys.stderr)
        return Exit.REFUSED
    if args.evidence is not None:
        from workflow.cli.verify_evidence import run_evidence

        if args.trust or args.tsa_trust:
            print("error: --evidence trusts only the package's own certificates: "
                  "leave out --trust/--tsa-trust", file=sys.stderr)  # fmt: skip
            return Exit.REFUSED
        return run_evidence(args.evidence, at=args.at, as_json=args.json, lang=lang)
    path: Path = args.file
    try:
        pdf = path.read_bytes()
    except OSError as exc:
        unreadable = InvalidInput(
            "file", ErrorCode.FILE_UNREADABLE, path=str(path), detail=exc.strerror
        )
        print(f"error: {unreadable.message(lang)}", file=sys.stderr)
        return Exit.REFUSED
    trust = _trust(settings, args)
    try:
        report = _validate(pdf, trust or TrustSettings(trust_roots=()), args.at)
    except InvalidInput as exc:
        print(f"error: {path}: {exc.message(lang)}", file=sys.stderr)
        return Exit.REFUSED
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        if trust is None:
            print(
                "Uwaga: brak zaufanych certyfikatów głównych (podaj --trust ROOT.pem): "
                "sprawdzono integralność, ale żaden podpis nie może być uznany za ważny.\n"
            )
        print_report(report)
    return Exit.OK if report.valid else Exit.CHECK_FAILED


def _yes(value: bool | None) -> str:
    return "tak" if value else "NIE"


def print_report(report: ValidationReport) -> None:
    print(f"Dokument {report.document_id}  sha256 {report.sha256}")
    print(f"Czas walidacji: {format_datetime_long(report.validated_at)}"
          f"{' (offline)' if report.offline else ''}")  # fmt: skip
    print(f"Rewizje: {report.revisions}; podpisy: {len(report.signatures)}; "
          f"znaczniki czasu dokumentu: {len(report.document_timestamps)}")  # fmt: skip
    for n, s in enumerate(report.signatures, start=1):
        print(f"\nPodpis {n} ({s.field_name}): {s.signer}")
        print(f"  certyfikat: {s.certificate.subject}; wystawca: {s.certificate.issuer}")
        print(f"  zaufany: {_yes(s.trusted)}; nienaruszony: {_yes(s.intact)}; "
              f"kryptograficznie poprawny: {_yes(s.cryptographically_valid)}")  # fmt: skip
        print(f"  obejmuje: {s.coverage.value}; zmiany po podpisaniu dozwolone: "
              f"{_yes(s.modifications_permitted)} ({s.modification_level})")  # fmt: skip
        if s.timestamp is not None:
            print(f"  znacznik czasu: {format_datetime_long(s.timestamp.time)} ({s.timestamp.tsa})")
        level = s.pades_level.value if s.pades_level else "—"
        print(f"  unieważnienie: {s.revocation.value}; poziom PAdES: {level}")
        print(f"  wynik: {'WAŻNY' if s.valid else 'NIEWAŻNY'} ({s.indication.value})")
        for problem in s.problems:
            print(f"  ! {problem}")
    for t in report.document_timestamps:
        when = format_datetime_long(t.time) if t.time else "—"
        print(f"\nZnacznik czasu dokumentu ({t.field_name}): {when}, {t.tsa}: "
              f"{'WAŻNY' if t.valid else 'NIEWAŻNY'}")  # fmt: skip
        for problem in t.problems:
            print(f"  ! {problem}")
    print(f"\nWYNIK: {'dokument ważny' if report.valid else 'dokument NIEWAŻNY'}")
