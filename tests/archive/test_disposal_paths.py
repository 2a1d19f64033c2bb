"""Disposal of an archived workflow document through the command line, and with the blob
store in the database: the file goes, the record and the document stay, nothing is a 500."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.archive.helpers import add_archivist, archive_pdf, plain_pdf, signed_letter
from tests.web.conftest import API, Login, app, clients, login
from workflow.archive import retention
from workflow.archive.archiving import archive_document
from workflow.archive.records import record_file
from workflow.cli.main import main as cli_main
from workflow.config import Settings, StorageSettings
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.errors import ErrorCode, NotFound
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord, BlobContent
from workflow.models.search import SearchEntry
from workflow.runtime import Runtime, build_runtime
from workflow.storage.database import DatabaseBlobStore

__all__ = ["app", "clients", "login"]  # the fixtures of tests/web, used here

DUE = {"category": "B", "retention_years": 5, "case_closed_on": "2015-06-30"}


def test_an_archived_letter_disposed_of_from_the_command_line(
    rt: Runtime,
    demo: DemoIds,
    actors: dict[str, Actor],
    login: Login,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(rt.settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", rt.settings.storage.database_url)
    second = add_archivist(rt, demo)
    doc_id = signed_letter(rt, actors, demo)
    record_id = archive_document(
        rt, actor=actors["archiwista"], document_id=doc_id, meta_overrides=DUE
    )
    me, other = actors["archiwista"].email, second.email

    assert cli_main(["archive", "list", "--due", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [record_id]
    assert cli_main(["archive", "dispose", "propose", str(record_id),
                     "--reason", "upływ okresu przechowywania", "--as", me]) == 0  # fmt: skip
    disposal_id = int(re.findall(r"disposal (\d+)", capsys.readouterr().out)[0])
    assert cli_main(["archive", "dispose", "approve", str(disposal_id), "--as", me]) == 2
    assert "inna osoba" in capsys.readouterr().err  # the proposer may not approve (Polish)
    assert cli_main(["archive", "dispose", "approve", str(disposal_id), "--as", other]) == 0
    assert cli_main(["archive", "dispose", "execute", str(disposal_id), "--as", me]) == 0
    assert "executed" in capsys.readouterr().out

    assert cli_main(["archive", "show", str(record_id)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["disposed_at"] is not None and shown["document_id"] == doc_id
    assert cli_main(["archive", "verify"]) == 0  # a disposed record is not a problem
    assert "0 record(s) checked" in capsys.readouterr().out
    author = login("autor")
    assert author.get(f"{API}/documents/{doc_id}").json()["status"] == "archived"
    gone = author.get(f"{API}/documents/{doc_id}/signed.pdf")
    assert gone.status_code == 404 and gone.json()["code"] == "signed_pdf_not_found"


def test_disposal_with_the_blob_store_in_the_database(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor], tmp_path: Path
) -> None:
    settings = Settings(
        var_dir=tmp_path / "var-db-blobs",
        storage=StorageSettings(
            database_url=rt.settings.effective_database_url, blob_backend="database"
        ),
        secret_key="test-secret-for-sessions",
    )
    db_rt = build_runtime(settings, signing=rt.signing)
    try:
        assert isinstance(db_rt.blobs, DatabaseBlobStore)
        me, second = actors["archiwista"], add_archivist(db_rt, demo)
        record_id = archive_pdf(
            db_rt, demo, me, plain_pdf("db"), case_closed_on=date(2015, 6, 30), retention_years=5
        )
        proposal = retention.propose(db_rt, actor=me, record_id=record_id, reason="upływ")
        retention.approve(db_rt, actor=second, disposal_id=proposal["id"])
        retention.execute(db_rt, actor=me, disposal_id=proposal["id"])
        with transaction(db_rt.read_sessions) as s:
            found = s.scalars(
                select(SearchEntry.id).where(SearchEntry.archive_record_id == record_id)
            )
            assert found.all() == []  # the import is no longer found by search
            record = s.get(ArchiveRecord, record_id)
            assert record is not None and record.disposed_at is not None
            sha = record.pdf_sha256
            assert s.scalar(select(BlobContent.sha256).where(BlobContent.sha256 == sha)) is None
        with pytest.raises(NotFound) as gone:
            record_file(db_rt, actor=me, record_id=record_id)
        assert gone.value.code == ErrorCode.ARCHIVE_RECORD_DISPOSED
    finally:
        db_rt.close()
