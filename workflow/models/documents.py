"""Documents, their parties and signatories, versions, renditions, approvals and comments."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base
from workflow.models.base import UTCDateTime, _enum, utcnow
from workflow.models.templates import DocumentKind

if TYPE_CHECKING:
    from workflow.models.identity import Organisation, User
    from workflow.models.templates import TemplateVersion
from workflow.states import Status


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    """Short human identifier, e.g. "LI/2026/0001"; printed on signature stamps."""
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, "document_kind"))
    title: Mapped[str] = mapped_column(String(300))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[Status] = mapped_column(_enum(Status, "status"), index=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    frozen_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_versions.id", use_alter=True)
    )
    frozen_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    """The PDF frozen for signing; each signature must refer to it."""
    current_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    """The newest state of the signed PDF: the frozen one plus signatures made so far."""
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template_version: Mapped[TemplateVersion] = relationship()
    owner_organisation: Mapped[Organisation] = relationship()
    parties: Mapped[list[DocumentParty]] = relationship(
        order_by="DocumentParty.position", cascade="all, delete-orphan"
    )
    signatories: Mapped[list[DocumentSignatory]] = relationship(
        order_by="DocumentSignatory.position", cascade="all, delete-orphan"
    )
    versions: Mapped[list[DocumentVersion]] = relationship(
        order_by="DocumentVersion.number",
        foreign_keys="DocumentVersion.document_id",
        back_populates="document",
    )


class DocumentParty(Base):
    __tablename__ = "document_parties"
    __table_args__ = (UniqueConstraint("document_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    representative_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship()
    representative: Mapped[User | None] = relationship()


class DocumentSignatory(Base):
    __tablename__ = "document_signatories"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    function: Mapped[str] = mapped_column(String(200))
    """Printed under the name and on the stamp, e.g. "Prezydent Miasta Rybnika"."""
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()


class DocumentVersion(Base):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    field_values: Mapped[dict[str, Any]] = mapped_column(JSON)
    docx_sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions", foreign_keys=[document_id])
    renditions: Mapped[list[Rendition]] = relationship(back_populates="version")

    @property
    def pdf_sha256(self) -> str | None:
        """The sha256 of this version's PDF/A, once rendered."""
        return next((r.sha256 for r in self.renditions if r.format == "pdf"), None)


class Rendition(Base):
    """A rendering of a version into another format (the PDF/A of a version)."""

    __tablename__ = "renditions"
    __table_args__ = (UniqueConstraint("version_id", "format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"), index=True)
    format: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[DocumentVersion] = relationship(back_populates="renditions")


class Approval(Base):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("document_versions.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    """The comment this one answers (same document); None: it starts a thread."""
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()
