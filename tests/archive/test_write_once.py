"""The database itself refuses to delete an archive record or to change what identifies
its file (triggers of migration 0009), on SQLite and PostgreSQL; and ``blobs gc`` never
removes an archived file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.archive.helpers import archive_pdf, plain_pdf
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord
from workflow.runtime import Runtime
from workflow.storage.blobs import sha256_hex
from workflow.storage.gc import collect_garbage


def _raw(rt: Runtime, sql: str, **params: object) -> None:
    with rt.engine.begin() as conn:
        conn.execute(text(sql), params)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM archive_records WHERE id = :id", "never deleted"),
        ("UPDATE archive_records SET pdf_sha256 = :other WHERE id = :id", "write-once"),
        ("UPDATE archive_records SET archived_at = '2001-01-01' WHERE id = :id", "write-once"),
        ("UPDATE archive_records SET source = 'workflow' WHERE id = :id", "write-once"),
        ("UPDATE archive_records SET document_id = 1 WHERE id = :id", "write-once"),
        ("UPDATE archive_records SET id = id + 100 WHERE id = :id", "write-once"),
    ],
)
def test_raw_sql_cannot_delete_or_rewrite_a_record(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor], sql: str, message: str
) -> None:
    pdf = plain_pdf("umowa")
    other = plain_pdf("inna")
    record_id = archive_pdf(rt, demo, actors["archiwista"], pdf)
    archive_pdf(rt, demo, actors["archiwista"], other, title="Inna umowa")
    with pytest.raises(DBAPIError, match=message):
        _raw(rt, sql, id=record_id, other=sha256_hex(other))
    with transaction(rt.read_sessions) as s:
        record = s.get(ArchiveRecord, record_id)
        assert record is not None
        assert record.pdf_sha256 == sha256_hex(pdf)
        assert record.source == "import"
        assert record.document_id is None


def test_the_database_refuses_to_dispose_of_a_held_or_category_a_record(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    held = archive_pdf(
        rt, demo, actors["archiwista"], plain_pdf("h"),
        legal_hold=True, legal_hold_reason="spór sądowy",
    )  # fmt: skip
    forever = archive_pdf(
        rt, demo, actors["archiwista"], plain_pdf("a"), category="A", retention_years=None
    )
    for record_id in (held, forever):
        with pytest.raises(DBAPIError, match="cannot be disposed"):
            _raw(rt, "UPDATE archive_records SET disposed_at = :t WHERE id = :id",
                 t=datetime.now(UTC), id=record_id)  # fmt: skip


def test_the_legal_hold_may_change_but_a_disposal_is_never_undone(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    record_id = archive_pdf(rt, demo, actors["archiwista"], plain_pdf("x"))
    _raw(rt, "UPDATE archive_records SET disposed_at = :t WHERE id = :id",
         t=datetime.now(UTC), id=record_id)  # fmt: skip
    with pytest.raises(DBAPIError, match="stays disposed"):
        _raw(rt, "UPDATE archive_records SET disposed_at = NULL WHERE id = :id", id=record_id)
    _raw(rt, "UPDATE archive_records SET text_status = 'none' WHERE id = :id", id=record_id)


def test_blobs_gc_never_removes_an_archived_file(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    pdf = plain_pdf("gc")
    record_id = archive_pdf(rt, demo, actors["archiwista"], pdf)
    report = collect_garbage(rt, older_than=timedelta(0))
    assert not report.removed_unrecorded
    with transaction(rt.read_sessions) as s:
        record = s.scalars(select(ArchiveRecord).where(ArchiveRecord.id == record_id)).one()
        shas = (record.pdf_sha256, record.audit_extract_sha256, record.validation_report_sha256)
    for sha in shas:
        assert rt.blobs.get(sha)
    assert rt.blobs.get(shas[0]) == pdf
