"""The human-readable report of ``estrategia verify`` (the JSON one is ``to_dict()``)."""

from __future__ import annotations

from signatures import ValidationReport
from workflow.polish.formatting import format_datetime_long


def _yes(value: bool | None) -> str:
    return "tak" if value else "NIE"


def print_report(report: ValidationReport) -> None:
    print(f"Dokument {report.document_id}  sha256 {report.sha256}")
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
    print(f"\nWYNIK: {'dokument ważny' if report.valid else 'dokument NIEWAŻNY'}")
