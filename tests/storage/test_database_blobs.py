"""The blob store in the database (``ESTRATEGIA_BLOB_BACKEND=database``): a file and its row
commit together, bytes once stored are never replaced, a changed row is reported and never
served, gc has nothing to sweep, and no file is written under var_dir."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from workflow.cli.main import main as cli_main
from workflow.config import Settings
from workflow.db import transaction
from workflow.migrate import upgrade
from workflow.models import BlobContent, StoredFile
from workflow.runtime import Runtime, build_runtime
from workflow.storage.blobs import BlobCorrupted, sha256_hex, store_file
from workflow.storage.database import DatabaseBlobStore
from workflow.storage.gc import collect_garbage

PDF = "application/pdf"


class Boom(Exception):
    pass


@pytest.fixture
def db_rt(settings: Settings) -> Iterator[Runtime]:
    settings = settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"blob_backend": "database"})}
    )
    upgrade(settings)
    runtime = build_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def _counts(rt: Runtime) -> tuple[int, int]:
    with transaction(rt.read_sessions) as s:
        files = s.scalar(select(func.count()).select_from(StoredFile))
        contents = s.scalar(select(func.count()).select_from(BlobContent))
    return files or 0, contents or 0


def _store_and_roll_back(rt: Runtime, data: bytes) -> None:
    def attempt() -> None:
        with transaction(rt.sessions) as session:
            store_file(session, rt.blobs, data, PDF)
            raise Boom

    with pytest.raises(Boom):
        attempt()


def test_the_setting_selects_the_database_backend(db_rt: Runtime) -> None:
    assert isinstance(db_rt.blobs, DatabaseBlobStore)


def test_a_file_commits_with_its_row_and_is_read_back_checked(db_rt: Runtime) -> None:
    data = b"%PDF-1.7 a letter of intent"
    sha = sha256_hex(data)
    with transaction(db_rt.sessions) as session:
        assert store_file(session, db_rt.blobs, data, PDF) == sha
        with pytest.raises(FileNotFoundError):  # other readers see it only after the commit
            db_rt.blobs.get(sha)
    assert db_rt.blobs.get(sha) == data
    assert _counts(db_rt) == (1, 1)
    assert not db_rt.settings.blobs_dir.exists()  # no shared disk: nothing under var_dir


def test_a_rollback_leaves_neither_row_nor_bytes(db_rt: Runtime) -> None:
    _store_and_roll_back(db_rt, b"undone")
    assert _counts(db_rt) == (0, 0)
    with pytest.raises(FileNotFoundError):
        db_rt.blobs.get(sha256_hex(b"undone"))


def test_bytes_are_written_once(db_rt: Runtime) -> None:
    data = b"twice"
    with transaction(db_rt.sessions) as session:
        store_file(session, db_rt.blobs, data, PDF)
        store_file(session, db_rt.blobs, data, PDF)
    with transaction(db_rt.sessions) as session:
        store_file(session, db_rt.blobs, data, PDF)
    assert _counts(db_rt) == (1, 1)


def test_a_changed_row_is_reported_never_served_nor_repaired_by_a_new_store(
    db_rt: Runtime,
) -> None:
    data = b"%PDF-1.7 signed by the Mayor of Rybnik"
    sha = sha256_hex(data)
    with transaction(db_rt.sessions) as session:
        store_file(session, db_rt.blobs, data, PDF)
    with db_rt.engine.begin() as connection:  # someone with access to the database
        connection.execute(
            update(BlobContent).where(BlobContent.sha256 == sha).values(content=b"%PDF forged")
        )
    with pytest.raises(BlobCorrupted, match=sha):
        db_rt.blobs.get(sha)
    with transaction(db_rt.sessions) as session:  # write-once: not overwritten, still reported
        store_file(session, db_rt.blobs, data, PDF)
    with pytest.raises(BlobCorrupted):
        db_rt.blobs.get(sha)


def test_bytes_cannot_exist_without_their_row(db_rt: Runtime) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), db_rt.engine.begin() as connection:
        connection.execute(
            insert(BlobContent).values(
                sha256=sha256_hex(b"stray"), content=b"stray", created_at=func.now()
            )
        )


def test_gc_has_nothing_to_sweep_and_keeps_every_file(
    db_rt: Runtime, monkeypatch: Any, capsys: Any
) -> None:
    with transaction(db_rt.sessions) as session:
        sha = store_file(session, db_rt.blobs, b"kept", PDF)
    _store_and_roll_back(db_rt, b"rolled back")
    report = collect_garbage(db_rt)
    assert report.backend == "database"
    assert not report.changed
    assert db_rt.blobs.get(sha) == b"kept"
    assert _counts(db_rt) == (1, 1)

    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(db_rt.settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", db_rt.settings.storage.database_url)
    monkeypatch.setenv("ESTRATEGIA_BLOB_BACKEND", "database")
    assert cli_main(["blobs", "gc"]) == 0
    assert "nothing to sweep" in capsys.readouterr().out
    assert db_rt.blobs.get(sha) == b"kept"
