"""What drafting in the browser keeps besides versions: each person's working draft of a
document (autosaved, not a version) and the page images of previews rendered from values.

Neither is evidence: a working draft is replaced on every autosave and deleted when its
author saves a version; a preview is a cache keyed by what it was rendered from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base
from workflow.models.base import UTCDateTime, utcnow


class WorkingDraft(Base):
    """The form as one person last left it on one document (raw form text, maybe invalid)."""

    __tablename__ = "working_drafts"
    __table_args__ = (UniqueConstraint("document_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    based_on_version: Mapped[int]
    """The version number the person was editing (a newer one by someone else is shown)."""
    form_values: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PreviewRender(Base):
    """Page images of a document rendered from some values (a job fills them in)."""

    __tablename__ = "preview_renders"
    __table_args__ = (UniqueConstraint("document_id", "context_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    context_sha256: Mapped[str] = mapped_column(String(64))
    """sha256 of the template's DOCX and everything the template sees: same hash, same pages."""
    field_values: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The validated values (JSON) to render."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """``pending``, ``ready`` or ``failed``."""
    page_sha256s: Mapped[list[str]] = mapped_column(JSON, default=list)
    """One PNG per page, in the blob store."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
