"""archive: write-once records, retention, legal holds, disposals

Revision ID: 0009
Revises: 0008

``archive_records`` rows are evidence: triggers (SQLite and PostgreSQL alike) refuse to
delete one, to change what identifies the archived file (id, pdf_sha256, archived_at,
source, document_id), to undo a disposal, and to mark disposed a record under legal hold
or in category A, whatever code (or person at a SQL prompt) tries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_NO_DELETE = "archive records are never deleted"
_WRITE_ONCE = "archive records are write-once: id, pdf_sha256, archived_at, source, document_id"
_NO_UNDISPOSE = "a disposed archive record stays disposed"
_PROTECTED = "a record under legal hold or in category A cannot be disposed"

_CHANGED = (
    "NEW.id IS NOT OLD.id OR NEW.pdf_sha256 IS NOT OLD.pdf_sha256 "
    "OR NEW.archived_at IS NOT OLD.archived_at OR NEW.source IS NOT OLD.source "
    "OR NEW.document_id IS NOT OLD.document_id"
)
_PG_CHANGED = _CHANGED.replace("IS NOT", "IS DISTINCT FROM")
_UNDISPOSED = "OLD.disposed_at IS NOT NULL AND NEW.disposed_at IS NOT OLD.disposed_at"
_DISPOSING_PROTECTED = (
    "NEW.disposed_at IS NOT NULL AND OLD.disposed_at IS NULL "
    "AND (NEW.legal_hold OR NEW.category = 'A')"
)

_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER archive_records_no_delete BEFORE DELETE ON archive_records
    BEGIN SELECT RAISE(ABORT, '{_NO_DELETE}'); END""",
    f"""CREATE TRIGGER archive_records_write_once BEFORE UPDATE ON archive_records
    WHEN {_CHANGED}
    BEGIN SELECT RAISE(ABORT, '{_WRITE_ONCE}'); END""",
    f"""CREATE TRIGGER archive_records_stay_disposed BEFORE UPDATE ON archive_records
    WHEN {_UNDISPOSED}
    BEGIN SELECT RAISE(ABORT, '{_NO_UNDISPOSE}'); END""",
    f"""CREATE TRIGGER archive_records_protected BEFORE UPDATE ON archive_records
    WHEN {_DISPOSING_PROTECTED}
    BEGIN SELECT RAISE(ABORT, '{_PROTECTED}'); END""",
)

_PG_FUNCTION = f"""
CREATE FUNCTION archive_records_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        RAISE EXCEPTION '{_NO_DELETE}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF {_PG_CHANGED} THEN
        RAISE EXCEPTION '{_WRITE_ONCE}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF {_UNDISPOSED.replace("IS NOT", "IS DISTINCT FROM")} THEN
        RAISE EXCEPTION '{_NO_UNDISPOSE}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF {_DISPOSING_PROTECTED} THEN
        RAISE EXCEPTION '{_PROTECTED}' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$
"""
_PG_TRIGGERS = (
    _PG_FUNCTION,
    """CREATE TRIGGER archive_records_guard BEFORE UPDATE OR DELETE ON archive_records
    FOR EACH ROW EXECUTE FUNCTION archive_records_guard()""",
    # TRUNCATE bypasses row triggers: refuse it as a statement.
    """CREATE TRIGGER archive_records_no_truncate BEFORE TRUNCATE ON archive_records
    FOR EACH STATEMENT EXECUTE FUNCTION archive_records_guard()""",
)


def _record_checks() -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint(
            "source IN ('workflow', 'import')", name=op.f("ck_archive_records_source")
        ),
        sa.CheckConstraint(
            "signature_status IN ('valid', 'invalid', 'indeterminate', 'unsigned')",
            name=op.f("ck_archive_records_signature_status"),
        ),
        sa.CheckConstraint(
            "category IN ('A', 'B', 'BE', 'BC')", name=op.f("ck_archive_records_category")
        ),
        sa.CheckConstraint(
            "text_status IN ('text', 'ocr_pending', 'ocr_done', 'ocr_failed', 'none')",
            name=op.f("ck_archive_records_text_status"),
        ),
    ]


def _create_records() -> None:
    op.create_table(
        "archive_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("signature_status", sa.String(length=16), nullable=False),
        sa.Column("pades_level", sa.String(length=8), nullable=True),
        sa.Column("jrwa_symbol", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=True),
        sa.Column("case_closed_on", sa.Date(), nullable=False),
        sa.Column("retention_ends_on", sa.Date(), nullable=True),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("legal_hold_reason", sa.String(length=500), nullable=True),
        sa.Column("owner_organisation_id", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_by_id", sa.Integer(), nullable=True),
        sa.Column("audit_extract_sha256", sa.String(length=64), nullable=False),
        sa.Column("validation_report_sha256", sa.String(length=64), nullable=False),
        sa.Column("text_status", sa.String(length=16), nullable=False),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True),
        *_record_checks(),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_archive_records_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["pdf_sha256"],
            ["stored_files.sha256"],
            name=op.f("fk_archive_records_pdf_sha256_stored_files"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_archive_records_owner_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["archived_by_id"], ["users.id"], name=op.f("fk_archive_records_archived_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["audit_extract_sha256"],
            ["stored_files.sha256"],
            name=op.f("fk_archive_records_audit_extract_sha256_stored_files"),
        ),
        sa.ForeignKeyConstraint(
            ["validation_report_sha256"],
            ["stored_files.sha256"],
            name=op.f("fk_archive_records_validation_report_sha256_stored_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_records")),
        sa.UniqueConstraint("document_id", name=op.f("uq_archive_records_document_id")),
        sa.UniqueConstraint("pdf_sha256", name=op.f("uq_archive_records_pdf_sha256")),
    )
    for column in ("jrwa_symbol", "category", "owner_organisation_id", "retention_ends_on"):
        op.create_index(op.f(f"ix_archive_records_{column}"), "archive_records", [column])


def _create_details() -> None:
    op.create_table(
        "archive_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("teryt", sa.String(length=7), nullable=True),
        sa.Column("voivodeship", sa.String(length=64), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_records.id"],
            name=op.f("fk_archive_parties_record_id_archive_records"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_archive_parties_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_parties")),
        sa.UniqueConstraint("record_id", "position", name=op.f("uq_archive_parties_record_id")),
    )
    op.create_index(op.f("ix_archive_parties_record_id"), "archive_parties", ["record_id"])
    op.create_index(op.f("ix_archive_parties_teryt"), "archive_parties", ["teryt"])
    op.create_table(
        "archive_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("signer_name", sa.String(length=300), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pades_level", sa.String(length=8), nullable=True),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_records.id"],
            name=op.f("fk_archive_signatures_record_id_archive_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_signatures")),
        sa.UniqueConstraint("record_id", "position", name=op.f("uq_archive_signatures_record_id")),
    )
    op.create_index(op.f("ix_archive_signatures_record_id"), "archive_signatures", ["record_id"])


def _create_disposals() -> None:
    op.create_table(
        "archive_disposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state_archive_consent", sa.String(length=200), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("executed_by_id", sa.Integer(), nullable=True),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.CheckConstraint(
            "state IN ('proposed', 'approved', 'rejected', 'executed')",
            name=op.f("ck_archive_disposals_state"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_records.id"],
            name=op.f("fk_archive_disposals_record_id_archive_records"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_archive_disposals_proposed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_archive_disposals_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["executed_by_id"], ["users.id"], name=op.f("fk_archive_disposals_executed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_disposals")),
    )
    op.create_index(op.f("ix_archive_disposals_record_id"), "archive_disposals", ["record_id"])


def upgrade() -> None:
    _create_records()
    _create_details()
    _create_disposals()
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_TRIGGERS if sqlite else _PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("no_delete", "write_once", "stay_disposed", "protected"):
            op.execute(f"DROP TRIGGER IF EXISTS archive_records_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS archive_records_no_truncate ON archive_records")
        op.execute("DROP TRIGGER IF EXISTS archive_records_guard ON archive_records")
        op.execute("DROP FUNCTION IF EXISTS archive_records_guard()")
    op.drop_table("archive_disposals")
    op.drop_table("archive_signatures")
    op.drop_table("archive_parties")
    op.drop_table("archive_records")
