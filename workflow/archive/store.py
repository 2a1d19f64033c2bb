"""Adding a record to the archive: the PDF write-once, its row, its evidence, one transaction.

``add_record`` runs in the caller's transaction and writes:

- the PDF, the frozen audit-trail extract (JSON) and the validation report (JSON) into the
  blob store (``storage.blobs``: row first, bytes under a pending name, fsynced; renamed to
  the final name only after the commit, never overwriting);
- the ``archive_records`` row, its parties and signatures;
- the audit record ``archive.record``;
- the search index entry (``workflow.search.index.index_entry``).

Row and file together or not at all: a rollback discards the pending files; a crash before
the commit leaves pending files without rows, which ``blobs gc`` removes; a crash between
the commit and the rename (SIGKILL) leaves committed rows whose files are still pending:
``blobs.get`` already serves them (checked against their hash) and ``archive verify`` and
``blobs gc`` finish the rename (``complete_pending_files``). With the database blob store
the bytes commit with the row. A committed record therefore never lacks its file, and a
file never appears without its record.

The same bytes twice are archived once: ``AlreadyArchived`` names the record that holds
them (the unique ``pdf_sha256`` also holds against two transactions at once).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from signatures import Indication, ValidationReport
from workflow import audit
from workflow.archive.metadata import ArchiveMetadata
from workflow.archive.text import record_entry
from workflow.errors import ConflictingChange, ErrorCode, InvalidInput
from workflow.identity.actors import Actor
from workflow.models import ArchiveParty, ArchiveRecord, ArchiveSignature
from workflow.search.index import index_document, index_entry
from workflow.storage.blobs import FileBlobStore, sha256_hex, store_file

if TYPE_CHECKING:
    from workflow.runtime import Runtime

PDF_MEDIA_TYPE = "application/pdf"
JSON_MEDIA_TYPE = "application/json"
SOURCES = ("workflow", "import")


class AlreadyArchived(ConflictingChange):
    """These bytes are already archived, as ``record_id``; nothing was stored again."""

    def __init__(self, record_id: int) -> None:
        self.record_id = record_id
        super().__init__(ErrorCode.ARCHIVE_ALREADY_ARCHIVED, record_id=record_id)


def find_by_sha256(session: Session, sha256: str) -> ArchiveRecord | None:
    return session.scalar(select(ArchiveRecord).where(ArchiveRecord.pdf_sha256 == sha256))


def signature_status(report: ValidationReport) -> str:
    """ "unsigned" (no signature), "valid", "invalid" (a signature failed, or a timestamp
    is broken) or "indeterminate" (nothing failed but something could not be proven)."""
    if not report.signatures:
        return "unsigned"
    if report.valid:
        return "valid"
    if any(
        s.indication == Indication.FAILED or not s.intact or s.modifications_permitted is False
        for s in report.signatures
    ):  # changed after signing in a way it does not allow: as good as a broken signature
        return "invalid"
    if any(not t.intact for t in report.document_timestamps):
        return "invalid"
    return "indeterminate"


def add_record(
    session: Session,
    rt: Runtime,
    *,
    pdf: bytes,
    file_name: str,
    meta: ArchiveMetadata,
    source: str,
    document_id: int | None,
    actor: Actor | None,
    validation: ValidationReport,
    owner_organisation_id: int,
    text_status: str = "text",
    text: str = "",
) -> ArchiveRecord:
    """Archive ``pdf`` in the caller's transaction (see the module docstring).

    ``actor`` is None only for work the system does on its own (a job); ``validation`` is
    the report of ``workflow.signing.verification`` for exactly these bytes; ``text``: an
    imported record's words for the search index (a workflow document has its versions).
    """
    if source not in SOURCES:
        raise InvalidInput("source", ErrorCode.NOT_ONE_OF, expected=", ".join(SOURCES))
    digest = sha256_hex(pdf)
    if validation.sha256 != digest:
        raise ValueError("the validation report is not the report of these bytes")
    existing = find_by_sha256(session, digest)
    if existing is not None:
        raise AlreadyArchived(existing.id)
    store_file(session, rt.blobs, pdf, PDF_MEDIA_TYPE)
    extract = audit.export(session, document_id=document_id) if document_id else []
    record = ArchiveRecord(
        document_id=document_id, source=source, file_name=file_name[:255], pdf_sha256=digest,
        size=len(pdf), signature_status=signature_status(validation),
        pades_level=level.value if (level := validation.pades_level) else None,
        **_metadata_columns(meta), owner_organisation_id=owner_organisation_id,
        archived_at=datetime.now(UTC), archived_by_id=actor.user_id if actor else None,
        audit_extract_sha256=_store_json(session, rt, {"audit_records": extract}),
        validation_report_sha256=_store_json(session, rt, validation.to_dict()),
        text_status=text_status,
    )  # fmt: skip
    session.add(record)
    session.flush()
    _add_details(session, record, meta, validation)
    audit.append(
        session,
        action="archive.record",
        actor_id=actor.user_id if actor else None,
        actor=actor.email if actor else "system",
        document_id=document_id,
        payload=_audit_payload(record),
    )
    _index(session, rt, record, text)
    return record


def _metadata_columns(meta: ArchiveMetadata) -> dict[str, Any]:
    return {
        "kind": meta.kind,
        "title": meta.title,
        "jrwa_symbol": meta.jrwa_symbol,
        "category": meta.category,
        "retention_years": meta.retention_years,
        "case_closed_on": meta.case_closed_on,
        "retention_ends_on": meta.retention_ends_on,
        "legal_hold": meta.legal_hold,
        "legal_hold_reason": meta.legal_hold_reason,
    }


def _store_json(session: Session, rt: Runtime, value: Any) -> str:
    data = audit.canonical_json(value).encode("utf-8")
    return store_file(session, rt.blobs, data, JSON_MEDIA_TYPE)


def _add_details(
    session: Session, record: ArchiveRecord, meta: ArchiveMetadata, report: ValidationReport
) -> None:
    for position, party in enumerate(meta.parties, start=1):
        session.add(
            ArchiveParty(
                record_id=record.id, position=position, name=party.name, teryt=party.teryt,
                voivodeship=party.voivodeship, organisation_id=party.organisation_id,
            )
        )  # fmt: skip
    for position, sig in enumerate(report.signatures, start=1):
        session.add(
            ArchiveSignature(
                record_id=record.id,
                position=position,
                signer_name=sig.signer[:300],
                signed_at=sig.best_signature_time or sig.claimed_signing_time,
                pades_level=sig.pades_level.value if sig.pades_level else None,
                certificate_sha256=None,
            )
        )
    session.flush()


def _audit_payload(record: ArchiveRecord) -> dict[str, Any]:
    return {
        "record_id": record.id,
        "source": record.source,
        "pdf_sha256": record.pdf_sha256,
        "title": record.title,
        "jrwa_symbol": record.jrwa_symbol,
        "category": record.category,
        "retention_years": record.retention_years,
        "retention_ends_on": str(record.retention_ends_on) if record.retention_ends_on else None,
        "signature_status": record.signature_status,
        "pades_level": record.pades_level,
        "legal_hold": record.legal_hold,
        "audit_extract_sha256": record.audit_extract_sha256,
        "validation_report_sha256": record.validation_report_sha256,
    }


def _index(session: Session, rt: Runtime, record: ArchiveRecord, text: str) -> None:
    """The search entry of the record, written once: an archived workflow document's entry
    (its versions' text, now with the JRWA symbol and category); an imported record's
    metadata with ``text`` (its text layer; a scan's OCR text is added by its job)."""
    if record.document_id is not None:
        index_document(session, rt.blobs, record.document_id)
    else:
        index_entry(session, record_entry(record, text))


def read_json(rt: Runtime, sha256: str) -> Any:
    """A JSON file of the archive (audit extract, validation report), checked."""
    return json.loads(rt.blobs.get(sha256))


def complete_pending_files(rt: Runtime, shas: list[str]) -> list[str]:
    """Rename the still-pending files of committed rows to their final names (a crash came
    between a commit and its renames); returns the sha256 of those it completed."""
    blobs = rt.blobs
    if not isinstance(blobs, FileBlobStore):
        return []
    done = []
    for sha in shas:
        if blobs.has_final(sha):
            continue
        pending = blobs.complete_pending(sha)
        if pending is not None:
            blobs.promote(pending)
            done.append(sha)
    return done
