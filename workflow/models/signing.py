"""State kept between the two halves of an external signature."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base
from workflow.models.base import UTCDateTime, utcnow


class SigningSession(Base):
    """State kept between the two halves of an external (hash-only) signature."""

    __tablename__ = "signing_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    signatory_id: Mapped[int] = mapped_column(ForeignKey("document_signatories.id"))
    base_pdf_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
