"""``archive verify``: is everything the archive holds still what was archived?

For every record not disposed of: its PDF re-hashed (missing or changed: a problem, and
the file is never served as valid, see ``records.record_file``), its audit extract and
validation report re-hashed, its signatures re-validated offline as of now (the revocation
data embedded in the PDF, the installation's trust anchors, no network) when they were
valid at archiving; then the audit chain (``workflow.audit.verify``). Each problem names
its record and document.

First it finishes what a crash interrupted (the repairs are reported, not problems):
files of committed records still under their pending name are renamed to their final
name, and files of records disposed of but still present are removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from signatures import TrustSettings, UnreadablePdf, validate_pdf
from workflow import audit
from workflow.archive.retention import finish_disposals
from workflow.archive.store import complete_pending_files
from workflow.db import transaction
from workflow.models import ArchiveRecord
from workflow.runtime import Runtime
from workflow.storage.blobs import BlobCorrupted


@dataclass(frozen=True)
class Problem:
    record_id: int | None
    """None for a problem of the audit chain as a whole."""
    document_id: int | None
    title: str
    kind: str
    """"file_missing", "file_changed", "evidence_missing", "evidence_changed",
    "signature_invalid", "audit_chain"."""
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    problems: tuple[Problem, ...]
    audit_checked: int
    completed_files: tuple[str, ...] = ()
    finished_disposals: tuple[int, ...] = ()
    ok_records: tuple[int, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Row:
    id: int
    document_id: int | None
    title: str
    pdf: str
    evidence: tuple[str, str]
    was_valid: bool


def verify_archive(
    rt: Runtime,
    trust: TrustSettings | None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """See the module docstring. ``trust``: the installation's anchors (``None``: nobody is
    trusted, so no signature can be valid)."""
    rows = _records(rt)
    completed = complete_pending_files(rt, [s for r in rows for s in (r.pdf, *r.evidence)])
    disposed = finish_disposals(rt)
    problems: list[Problem] = []
    ok: list[int] = []
    for done, row in enumerate(rows, start=1):
        found = _check_record(rt, row, trust or TrustSettings(trust_roots=()))
        problems.extend(found)
        if not found:
            ok.append(row.id)
        if progress is not None:
            progress(done, len(rows))
    with transaction(rt.read_sessions) as session:
        chain = audit.verify(session)
    if not chain.ok:
        problems.append(
            Problem(None, None, "", "audit_chain", chain.problem or "the audit chain is broken")
        )
    return VerifyReport(
        checked=len(rows), problems=tuple(problems), audit_checked=chain.checked,
        completed_files=tuple(completed), finished_disposals=tuple(disposed),
        ok_records=tuple(ok),
    )  # fmt: skip


def _records(rt: Runtime) -> list[_Row]:
    with transaction(rt.read_sessions) as session:
        records = session.scalars(
            select(ArchiveRecord)
            .where(ArchiveRecord.disposed_at.is_(None))
            .order_by(ArchiveRecord.id)
        )
        return [
            _Row(
                id=r.id,
                document_id=r.document_id,
                title=r.title,
                pdf=r.pdf_sha256,
                evidence=(r.audit_extract_sha256, r.validation_report_sha256),
                was_valid=r.signature_status == "valid",
            )
            for r in records
        ]


def _check_record(rt: Runtime, row: _Row, trust: TrustSettings) -> list[Problem]:
    def problem(kind: str, detail: str) -> Problem:
        return Problem(row.id, row.document_id, row.title, kind, detail)

    problems = []
    for sha, what in zip(row.evidence, ("audit extract", "validation report"), strict=True):
        kind = _read_problem(rt, sha)
        if kind is not None:
            problems.append(problem(f"evidence_{kind}", f"the {what} {sha} is {kind}"))
    kind = _read_problem(rt, row.pdf)
    if kind is not None:
        return [*problems, problem(f"file_{kind}", f"the archived PDF {row.pdf} is {kind}")]
    if row.was_valid:
        try:
            report = validate_pdf(rt.blobs.get(row.pdf), trust=trust, offline=True)
        except UnreadablePdf as exc:
            return [*problems, problem("signature_invalid", f"the PDF cannot be read: {exc}")]
        if not report.valid:
            reasons = [p for s in report.signatures for p in s.problems]
            reasons += [p for t in report.document_timestamps for p in t.problems]
            detail = "; ".join(reasons) or "the signatures are no longer valid"
            problems.append(problem("signature_invalid", detail))
    return problems


def _read_problem(rt: Runtime, sha256: str) -> str | None:
    try:
        rt.blobs.get(sha256)
    except BlobCorrupted:
        return "changed"
    except FileNotFoundError:
        return "missing"
    return None
