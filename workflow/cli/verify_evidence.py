"""``estrategia verify --evidence PACKAGE.zip [--at WHEN]``: an evidence package checked
from itself alone (``workflow.archive.evidence_check``), reported in Polish."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from workflow.cli.output import Exit
from workflow.errors import ErrorCode, InvalidInput

__all__ = ["run_evidence"]


def run_evidence(path: Path, *, at: datetime | None, as_json: bool, lang: str) -> int:
    """Exit 0 VALID, 1 INVALID (the reasons are printed), 2 not a readable package."""
    from workflow.archive.evidence_check import check_package
    from workflow.cli.verify import print_report

    try:
        data = path.read_bytes()
        verdict = check_package(data, at=at)
    except OSError as exc:
        error = InvalidInput("file", ErrorCode.FILE_UNREADABLE, path=str(path), detail=exc.strerror)
        print(f"error: {error.message(lang)}", file=sys.stderr)
        return Exit.REFUSED
    except InvalidInput as exc:
        print(f"error: {path}: {exc.message(lang)}", file=sys.stderr)
        return Exit.REFUSED
    if as_json:
        print(json.dumps({
            "valid": verdict.valid,
            "problems": list(verdict.problems),
            "anchors": list(verdict.anchors),
            "members": sorted(verdict.package.members),
            "report": verdict.report.to_dict() if verdict.report else None,
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return Exit.OK if verdict.valid else Exit.CHECK_FAILED
    members = len(verdict.package.members)
    manifest = "zgodny" if not verdict.package.problems else "NIEZGODNY"
    print(f"Paczka dowodowa {path.name}: {members} plików; manifest SHA-256: {manifest}")
    print(f"Zaufane certyfikaty z paczki: {', '.join(verdict.anchors) or 'brak'}")
    if at is not None:
        print(f"Walidacja na chwilę: {at.isoformat()} (offline)")
    if verdict.report is not None:
        print()
        print_report(verdict.report)
    if verdict.valid:
        print("\nPACZKA: WAŻNA (VALID)")
        return Exit.OK
    print("\nPACZKA: NIEWAŻNA (INVALID)")
    for problem in verdict.problems:
        print(f"  - {problem}")
    return Exit.CHECK_FAILED
