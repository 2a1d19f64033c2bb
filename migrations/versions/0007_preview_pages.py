"""drafting in the browser: working drafts (autosave) and preview page images

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "working_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("based_on_version", sa.Integer(), nullable=False),
        sa.Column("form_values", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_working_drafts_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_working_drafts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_drafts")),
        sa.UniqueConstraint("document_id", "user_id", name=op.f("uq_working_drafts_document_id")),
    )
    op.create_index(op.f("ix_working_drafts_document_id"), "working_drafts", ["document_id"])
    op.create_table(
        "preview_renders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("context_sha256", sa.String(length=64), nullable=False),
        sa.Column("field_values", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("page_sha256s", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_preview_renders_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preview_renders")),
        sa.UniqueConstraint(
            "document_id", "context_sha256", name=op.f("uq_preview_renders_document_id")
        ),
    )
    op.create_index(op.f("ix_preview_renders_document_id"), "preview_renders", ["document_id"])


def downgrade() -> None:
    op.drop_table("preview_renders")
    op.drop_table("working_drafts")
