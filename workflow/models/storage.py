"""What the write-once file store holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base
from workflow.models.base import UTCDateTime, utcnow


class StoredFile(Base):
    """A file in the content-addressed store (storage.blobs); the row says what it is."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlobContent(Base):
    """The bytes of a stored file when the blob store lives in the database
    (``ESTRATEGIA_BLOB_BACKEND=database``): committed in the same transaction as its
    ``stored_files`` row, which it cannot outlive nor precede (the foreign key)."""

    __tablename__ = "blob_contents"

    sha256: Mapped[str] = mapped_column(
        String(64), ForeignKey("stored_files.sha256"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
