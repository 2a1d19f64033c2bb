"""The write-once archive: records of signed agreements, their parties and signatures,
and disposals (see ``workflow.archive``).

An ``archive_records`` row is evidence: it is never deleted, and what identifies the
archived file (``pdf_sha256``, ``archived_at``, ``source``, ``document_id``) never changes.
Migration 0009 enforces both with triggers on SQLite and PostgreSQL; ``workflow.archive``
never tries. What may change: the legal hold, the text status (OCR) and ``disposed_at``
(set once, by an approved disposal, when the file is removed).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base
from workflow.models.base import UTCDateTime, utcnow

SOURCES = ("workflow", "import")
SIGNATURE_STATUSES = ("valid", "invalid", "indeterminate", "unsigned")
CATEGORIES = ("A", "B", "BE", "BC")
TEXT_STATUSES = ("text", "ocr_pending", "ocr_done", "ocr_failed", "none")
DISPOSAL_STATES = ("proposed", "approved", "rejected", "executed")

PROTECTED_COLUMNS = ("id", "pdf_sha256", "archived_at", "source", "document_id")
"""Columns of ``archive_records`` the database refuses to change (migration 0009)."""


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ArchiveRecord(Base):
    """One archived file (a signed workflow document or an imported agreement)."""

    __tablename__ = "archive_records"
    __table_args__ = (
        CheckConstraint(_one_of("source", SOURCES), name="source"),
        CheckConstraint(_one_of("signature_status", SIGNATURE_STATUSES), name="signature_status"),
        CheckConstraint(_one_of("category", CATEGORIES), name="category"),
        CheckConstraint(_one_of("text_status", TEXT_STATUSES), name="text_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)
    """The workflow document archived; ``None`` for an imported agreement."""
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str] = mapped_column(String(255))
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"), unique=True)
    """The PDF as archived (write-once); one record per file: the same bytes twice are
    archived once."""
    size: Mapped[int] = mapped_column(Integer)
    signature_status: Mapped[str] = mapped_column(String(16))
    """As found at archiving: "valid", "invalid", "indeterminate" or "unsigned"."""
    pades_level: Mapped[str | None] = mapped_column(String(8))
    jrwa_symbol: Mapped[str] = mapped_column(String(16), index=True)
    category: Mapped[str] = mapped_column(String(2), index=True)
    retention_years: Mapped[int | None] = mapped_column(Integer)
    case_closed_on: Mapped[date] = mapped_column(Date)
    retention_ends_on: Mapped[date | None] = mapped_column(Date, index=True)
    """1 January of the year after closing plus ``retention_years``; ``None`` for A."""
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_hold_reason: Mapped[str | None] = mapped_column(String(500))
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    audit_extract_sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    """The document's audit trail up to archiving, frozen as JSON."""
    validation_report_sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    """The validation report at archiving, as JSON."""
    text_status: Mapped[str] = mapped_column(String(16), default="text")
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parties: Mapped[list[ArchiveParty]] = relationship(order_by="ArchiveParty.position")
    signatures: Mapped[list[ArchiveSignature]] = relationship(order_by="ArchiveSignature.position")


class ArchiveParty(Base):
    __tablename__ = "archive_parties"
    __table_args__ = (UniqueConstraint("record_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_records.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    teryt: Mapped[str | None] = mapped_column(String(7), index=True)
    voivodeship: Mapped[str | None] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))


class ArchiveSignature(Base):
    __tablename__ = "archive_signatures"
    __table_args__ = (UniqueConstraint("record_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_records.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    signer_name: Mapped[str] = mapped_column(String(300))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The best proven signing time (the signature timestamp), else the claimed one."""
    pades_level: Mapped[str | None] = mapped_column(String(8))
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))


class Disposal(Base):
    """A proposal to dispose of a record, its approval (by someone else) and execution."""

    __tablename__ = "archive_disposals"
    __table_args__ = (CheckConstraint(_one_of("state", DISPOSAL_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_records.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    reason: Mapped[str] = mapped_column(Text)
    state_archive_consent: Mapped[str | None] = mapped_column(String(200))
    """The state archive's consent reference, required for BE records."""
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """Who approved or rejected it."""
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    """Copied from the record: what was (to be) removed."""
    title: Mapped[str] = mapped_column(String(300))

    record: Mapped[ArchiveRecord] = relationship()
