"""Importing an agreement signed before this system (elsewhere, or on paper and scanned).

:func:`import_pdf` takes one file and, in this order:

1. refuses it unless it is a PDF within the upload limit, judged by its bytes (not its
   name): ``file_too_large`` (``max_upload_bytes``), ``not_a_pdf`` (no ``%PDF-``);
2. checks the metadata: the JSON given (``--meta FILE.json``, the API's ``meta`` field)
   over the defaults below, every problem naming its field (``ArchiveMetadata``);
3. answers "already archived" with the existing record when the same bytes are in the
   archive (by sha256): a file is stored once, and that is not an error;
4. validates its signatures (``workflow.signing.verification``, the installation's trust,
   offline): a file pyHanko cannot read is refused (``pdf_unreadable``); a PDF without a
   signature is accepted as ``unsigned``; one whose signatures fail (a changed byte, a
   change after signing) is accepted as ``invalid`` — it is what was received, and the
   archive says so — with the validation report kept beside it, like every other;
5. reads its text layer (``workflow.archive.text``); a scan (no text, or almost none) is
   stored as ``ocr_pending`` and its caller queues the OCR job after the commit
   (``ImportOutcome.needs_ocr``; the archive sits below the job queue);
6. stores it through ``store.add_record`` (the file write-once, the row, the parties and
   signatures, the frozen report, the audit record ``archive.record``: one transaction)
   with ``source="import"`` and indexes it for search in the same transaction.

Defaults without metadata: the title of the PDF's document information, else its file name;
kind ``agreement``; JRWA symbol, category and years from the installation's retention scheme
for that kind (``settings.archive.scheme``; a kind it does not name: its first entry, as
for archived documents); closed on the
day of the last signature (its proven time, else the claimed one), else the day of import;
no parties. The owner is the organisation where the importing person is an archivist or an
administrator; for the command line without ``--as``, the e-Izba head office.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any, Final

import pikepdf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signatures import TrustSettings, ValidationReport
from workflow.archive import store
from workflow.archive.metadata import ArchiveMetadata, from_json
from workflow.archive.text import (
    TextUnavailable,
    extract_text,
    needs_ocr,
    pages_drawing_text,
)
from workflow.db import transaction
from workflow.errors import ErrorCode, InvalidInput, NotPermitted
from workflow.identity.actors import Actor
from workflow.models import Membership, Organisation, OrganisationKind
from workflow.models.archive import ArchiveRecord
from workflow.runtime import Runtime
from workflow.signing.verification import verify_bytes
from workflow.states import Role
from workflow.storage.blobs import sha256_hex

__all__ = [
    "DEFAULT_KIND",
    "PDF_MAGIC",
    "ImportOutcome",
    "check_pdf_bytes",
    "import_pdf",
]

log = logging.getLogger(__name__)

PDF_MAGIC: Final = b"%PDF-"
FIELD: Final = "file"
IMPORT_ROLES: Final = frozenset({Role.ARCHIVIST, Role.ADMIN})

DEFAULT_KIND: Final = "agreement"


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file."""

    record_id: int
    sha256: str
    title: str
    file_name: str
    already_archived: bool
    """The same bytes were in the archive: this is their record; nothing was stored."""
    signature_status: str
    pades_level: str | None
    text_status: str
    problems: tuple[str, ...] = ()
    """Why the signatures are not valid (``invalid``/``indeterminate``), one per problem."""

    @property
    def needs_ocr(self) -> bool:
        """A scan just imported: queue ``archive.ocr`` for it."""
        return not self.already_archived and self.text_status == "ocr_pending"


def check_pdf_bytes(pdf: bytes, *, limit: int) -> None:
    """``file_too_large`` or ``not_a_pdf`` (``InvalidInput("file")``) unless ``pdf`` is a
    PDF of at most ``limit`` bytes, by its bytes."""
    if len(pdf) > limit:
        raise InvalidInput(FIELD, ErrorCode.FILE_TOO_LARGE, limit=limit)
    if not pdf.startswith(PDF_MAGIC):
        raise InvalidInput(FIELD, ErrorCode.NOT_A_PDF)


def import_pdf(
    rt: Runtime,
    *,
    pdf: bytes,
    file_name: str,
    meta: dict[str, Any] | None,
    actor: Actor | None,
    trust: TrustSettings | None = None,
) -> ImportOutcome:
    """Import ``pdf`` into the archive (see the module docstring). ``actor`` None: the
    system (the command line without ``--as``). ``trust``: whom the validation trusts
    (default: the signing environment's, ``rt.signing.trust``)."""
    if actor is not None and not any(actor.has_role(r) for r in IMPORT_ROLES):
        raise NotPermitted(ErrorCode.ARCHIVE_NEEDS_ARCHIVIST)
    check_pdf_bytes(pdf, limit=rt.settings.max_upload_bytes)
    name = PurePath(file_name.replace("\\", "/")).name or "import.pdf"
    digest = sha256_hex(pdf)
    existing = _existing(rt, digest)
    if existing is not None:
        return existing
    report = verify_bytes(pdf, trust=trust or rt.signing.trust)
    metadata = _metadata(rt, pdf, name, meta, report)
    text, text_status = _text(pdf, name)
    try:
        with transaction(rt.sessions) as session:
            record = store.add_record(
                session,
                rt,
                pdf=pdf,
                file_name=name,
                meta=metadata,
                source="import",
                document_id=None,
                actor=actor,
                validation=report,
                owner_organisation_id=_owner(session, actor),
                text_status=text_status,
                text=text,
            )
            outcome = _outcome(record, report, already=False)
    except (store.AlreadyArchived, IntegrityError):
        # Imported meanwhile by someone else (the unique sha256 held): theirs is the record.
        found = _existing(rt, digest)
        if found is None:
            raise
        return found
    return outcome


def _existing(rt: Runtime, digest: str) -> ImportOutcome | None:
    with transaction(rt.read_sessions) as session:
        record = store.find_by_sha256(session, digest)
        return None if record is None else _outcome(record, None, already=True)


def _outcome(
    record: ArchiveRecord, report: ValidationReport | None, *, already: bool
) -> ImportOutcome:
    problems: tuple[str, ...] = ()
    if report is not None:
        problems = tuple(
            f"{s.field_name}: {p}" for s in report.signatures if not s.valid for p in s.problems
        )
        problems += tuple(
            f"{t.field_name}: {p}"
            for t in report.document_timestamps
            if not t.valid
            for p in t.problems
        )
    return ImportOutcome(
        record_id=record.id,
        sha256=record.pdf_sha256,
        title=record.title,
        file_name=record.file_name,
        already_archived=already,
        signature_status=record.signature_status,
        pades_level=record.pades_level,
        text_status=record.text_status,
        problems=problems,
    )


def _metadata(
    rt: Runtime,
    pdf: bytes,
    file_name: str,
    meta: dict[str, Any] | None,
    report: ValidationReport,
) -> ArchiveMetadata:
    """The defaults (module docstring) with ``meta`` over them, checked field by field."""
    if meta is not None and not isinstance(meta, dict):
        raise InvalidInput("meta", ErrorCode.DATA_NOT_OBJECT)
    kind = (meta or {}).get("kind") or DEFAULT_KIND
    defaults = {
        **_retention_defaults(rt, kind if isinstance(kind, str) else DEFAULT_KIND),
        "kind": DEFAULT_KIND,
        "title": _pdf_title(pdf) or PurePath(file_name).stem or file_name,
        "case_closed_on": _closed_on(report).isoformat(),
        "parties": [],
    }
    return from_json({**defaults, **(meta or {})})


def _retention_defaults(rt: Runtime, kind: str) -> dict[str, Any]:
    scheme = rt.settings.archive.scheme
    found = scheme.get(kind) or next(iter(scheme.values()), None)
    if found is None:  # an installation that emptied its scheme: kept forever
        return {"jrwa_symbol": "0170", "category": "A", "retention_years": None}
    return {
        "jrwa_symbol": found.jrwa_symbol,
        "category": found.category,
        "retention_years": found.retention_years,
    }


def _pdf_title(pdf: bytes) -> str | None:
    """The ``/Title`` of the document information, if it has a usable one."""
    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            title = doc.docinfo.get("/Title")
            text = str(title).strip() if title is not None else ""
    except (pikepdf.PdfError, ValueError):
        return None
    text = " ".join(text.split())
    return text[:300] if text and text.isprintable() else None


def _closed_on(report: ValidationReport) -> date:
    times = [t for s in report.signatures if (t := s.best_signature_time or s.claimed_signing_time)]
    return max(times).date() if times else datetime.now(UTC).date()


def _text(pdf: bytes, file_name: str) -> tuple[str, str]:
    """The text for the index and the record's ``text_status``."""
    try:
        found = extract_text(pdf)
    except TextUnavailable as exc:
        log.warning("import of %s: no text layer read: %s", file_name, exc)
        return "", "none"
    if needs_ocr(found, pages_drawing_text(pdf)):
        return found.text, "ocr_pending"
    return found.text, "text"


def _owner(session: Session, actor: Actor | None) -> int:
    """The organisation that owns what ``actor`` imports (module docstring)."""
    if actor is not None:
        org = session.scalar(
            select(Membership.organisation_id)
            .where(Membership.user_id == actor.user_id, Membership.role.in_(IMPORT_ROLES))
            .order_by(Membership.id)
            .limit(1)
        )
        if org is not None:
            return org
        raise NotPermitted(ErrorCode.ARCHIVE_NEEDS_ARCHIVIST)
    head = session.scalar(
        select(Organisation.id)
        .where(Organisation.kind == OrganisationKind.CHAMBER)
        .order_by(Organisation.id)
        .limit(1)
    )
    if head is None:
        raise NotPermitted(ErrorCode.ARCHIVE_NEEDS_ARCHIVIST)
    return head
