"""The full-text index: one entry per indexed document or archive record, its filter values.

An entry holds the original text (for snippets) and its index terms (``terms``, from
``workflow.polish.lemmas``) and a token per filter value (``facet_terms``). The full-text
part is not mapped here, it lives beside the table (migration 0008): on SQLite an
external-content FTS5 table ``search_fts(terms, facet_terms)`` (rowid = entry id), kept in
step by triggers; on PostgreSQL a generated column ``search_entries.tsv``, ``terms`` with
weight A and ``facet_terms`` with weight D (``to_tsvector('simple', ...)``), and a GIN
index. Both are derived by the database, so writing an entry is all ``workflow.search``
does.

Filter values also live in ``search_values`` (facet, value), several per entry for the
multi-valued ones (parties, signatories): what the facet counts group by.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base
from workflow.models.base import UTCDateTime, utcnow


class SearchEntry(Base):
    """One indexed document (``document_id``) or archive record (``archive_record_id``);
    a workflow document that was archived has both."""

    __tablename__ = "search_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)
    archive_record_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    """``archive_records.id`` (no foreign key: that table comes with migration 0009)."""
    owner_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    """Who sees an entry without a workflow document (the rule of the documents' owner)."""
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    jrwa_symbol: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    """The original text indexed (title, parties, signatories, text of every version)."""
    terms: Mapped[str] = mapped_column(Text)
    """The index terms of ``body``, space-separated (what FTS5 and the tsvector hold)."""
    facet_terms: Mapped[str] = mapped_column(Text, default="")
    """One token per filter value (``workflow.search.index.facet_token``), indexed beside
    ``terms`` with no weight in the ranking: filters are part of the full-text match."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    values: Mapped[list[SearchValue]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class SearchValue(Base):
    """A filter value of an entry: ("voivodeship", "śląskie"), ("signatory", "Jan Nowak")."""

    __tablename__ = "search_values"
    __table_args__ = (Index("ix_search_values_facet_value", "facet", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("search_entries.id", ondelete="CASCADE"), index=True
    )
    facet: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
