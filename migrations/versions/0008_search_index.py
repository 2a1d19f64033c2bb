"""search: the Polish full-text index

Revision ID: 0008
Revises: 0007

``search_entries`` (one row per indexed document or archive record, its original text, its
index terms and a token per filter value) and ``search_values`` (its filter values, for
the counts). The full-text part is derived from ``terms`` and ``facet_terms`` by the
database itself: on SQLite an external-content FTS5 table kept in step by triggers; on
PostgreSQL a generated tsvector column (facet tokens weighted D) with a GIN index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(terms, facet_terms, content='search_entries', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN "
    "INSERT INTO search_fts(rowid, terms, facet_terms) "
    "VALUES (new.id, new.terms, new.facet_terms); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, terms, facet_terms) "
    "VALUES ('delete', old.id, old.terms, old.facet_terms); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE OF terms, facet_terms ON search_entries "
    "BEGIN INSERT INTO search_fts(search_fts, rowid, terms, facet_terms) "
    "VALUES ('delete', old.id, old.terms, old.facet_terms); "
    "INSERT INTO search_fts(rowid, terms, facet_terms) "
    "VALUES (new.id, new.terms, new.facet_terms); END",
]
_POSTGRESQL_FTS = [
    "ALTER TABLE search_entries ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', terms), 'A') || "
    "setweight(to_tsvector('simple', facet_terms), 'D')) STORED",
    "CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)",
]


def upgrade() -> None:
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("archive_record_id", sa.Integer(), nullable=True),
        sa.Column("owner_organisation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("jrwa_symbol", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=8), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("facet_terms", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_search_entries_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["owner_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_search_entries_owner_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("document_id", name=op.f("uq_search_entries_document_id")),
        sa.UniqueConstraint("archive_record_id", name=op.f("uq_search_entries_archive_record_id")),
    )
    op.create_index(
        op.f("ix_search_entries_owner_organisation_id"), "search_entries", ["owner_organisation_id"]
    )
    op.create_table(
        "search_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["search_entries.id"],
            name=op.f("fk_search_values_entry_id_search_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_values")),
    )
    op.create_index(op.f("ix_search_values_entry_id"), "search_values", ["entry_id"])
    op.create_index("ix_search_values_facet_value", "search_values", ["facet", "value"])
    statements = _POSTGRESQL_FTS if op.get_bind().dialect.name == "postgresql" else _SQLITE_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("search_entries_ai", "search_entries_ad", "search_entries_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_values")
    op.drop_table("search_entries")
