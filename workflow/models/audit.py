"""The hash-chained audit trail (see workflow.audit) and the timestamps anchoring its head
(see workflow.archive.anchors)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base
from workflow.models.base import UTCDateTime, utcnow


class AuditRecord(Base):
    """One link of the hash chain; see audit.py for what the hash covers."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(254))
    document_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    """Canonical JSON, kept as the exact text that was hashed."""
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The newest link (one row): appends lock it, so the chain never forks, and
    verification compares it with the last record, so a removed tail is noticed."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """An RFC 3161 timestamp over the hash of the audit record ``head_seq``.

    Written once, never changed. A TSA outside the database signed ``head_hash`` at
    ``timestamped_at``: a chain rewritten later (every hash recomputed) no longer has that
    hash at that position, and a new token cannot be back-dated."""

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    head_seq: Mapped[int] = mapped_column(Integer, index=True)
    """The sequence number of the record whose hash was timestamped."""
    head_hash: Mapped[str] = mapped_column(String(64))
    """That record's hash (hex); the token's message imprint is these 32 bytes."""
    token: Mapped[bytes] = mapped_column(LargeBinary)
    """The timestamp token as the TSA returned it (DER CMS ContentInfo)."""
    tsa_certificates: Mapped[str] = mapped_column(Text)
    """The certificates the token carries (PEM), for a verifier without the TSA's files."""
    timestamped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The TSA's time (the token's genTime)."""
    reason: Mapped[str] = mapped_column(String(32))
    """Why it was made: ``schedule``, ``archive`` or ``manual``."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
