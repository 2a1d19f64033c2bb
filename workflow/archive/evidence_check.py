"""Checking an evidence package from itself alone: the manifest, then the PDF's signatures
validated offline against the anchors the package carries (nothing of this installation's
trust, no network), at the validation time asked for.

Whoever holds the package gets the answer from it alone, any year until the certificate of
the TSA behind the document's newest archive timestamp expires; after that the package
says INVALID and why (the archive timestamp must have been renewed before, by the
installation's ``timestamps.renew`` job: a renewed document's package carries the new
TSA's anchor).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signatures import UnreadablePdf, ValidationReport, validate_pdf
from signatures.longterm import validate_pdf_at
from signatures.validation import common_name
from workflow.archive.evidence import METADATA, REPORT_JSON, OpenedPackage, read_package

__all__ = ["EvidenceVerdict", "check_package"]


@dataclass(frozen=True)
class EvidenceVerdict:
    package: OpenedPackage
    report: ValidationReport | None
    """The PDF's validation (None: the package holds no readable PDF)."""
    anchors: tuple[str, ...]
    """Common names of the package's anchors, signing roots first."""
    problems: tuple[str, ...]
    """Why the package is not valid (Polish, one line each); empty when it is."""

    @property
    def valid(self) -> bool:
        return not self.problems


def _json(package: OpenedPackage, name: str) -> dict[str, Any]:
    data = package.members.get(name)
    try:
        value = json.loads(data) if data else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _consistency(package: OpenedPackage, pdf: bytes) -> list[str]:
    """The PDF is the one the package's report and metadata describe: the archived bytes,
    or a renewal that extends them (the archived size is in the metadata)."""
    size = _json(package, METADATA).get("size")
    archived = pdf[:size] if isinstance(size, int) and 0 < size <= len(pdf) else pdf
    sha256 = hashlib.sha256(archived).hexdigest()
    problems = []
    for name, key in ((REPORT_JSON, "sha256"), (METADATA, "pdf_sha256")):
        named = _json(package, name).get(key)
        if named is not None and named != sha256:
            problems.append(f"plik {name} opisuje inny dokument (SHA-256 {named})")
    return problems


def _signature_problems(report: ValidationReport) -> list[str]:
    problems = []
    if not report.signatures:
        problems.append("dokument nie ma żadnego podpisu")
    for n, s in enumerate(report.signatures, start=1):
        if not s.valid:
            why = "; ".join(s.problems) or s.indication.value
            problems.append(f"podpis {n} ({s.signer}) nieważny: {why}")
    for t in report.document_timestamps:
        if not t.valid:
            why = "; ".join(t.problems) or "nieważny"
            problems.append(f"znacznik czasu dokumentu ({t.field_name}) nieważny: {why}")
    return problems


def check_package(data: bytes, *, at: datetime | None = None) -> EvidenceVerdict:
    """Check the package ``data`` as of ``at`` (default: now).

    :raises InvalidInput: not a readable package (``evidence``).
    """
    package = read_package(data)
    trust = package.trust()
    anchors = tuple(common_name(c.subject) for c in (*trust.trust_roots, *trust.tsa_trust_roots))
    problems = list(package.problems)
    if not trust.trust_roots:
        problems.append("paczka nie zawiera certyfikatu głównego podpisów (zaufane/podpisy.pem)")
    report = None
    pdf = package.pdf
    if pdf is not None:
        try:
            if at is None:
                report = validate_pdf(pdf, trust=trust)
            else:
                report = validate_pdf_at(pdf, trust=trust, when=at)
        except UnreadablePdf as exc:
            problems.append(f"dokumentu nie da się odczytać: {exc}")
    if report is not None and pdf is not None:
        problems.extend(_consistency(package, pdf))
        problems.extend(_signature_problems(report))
    return EvidenceVerdict(package, report, anchors, tuple(problems))
