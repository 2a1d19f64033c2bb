"""The blob store follows the transaction that records its files: visible under their final
name after the commit, gone after a rollback; gc sweeps only what is old and unrecorded."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.storage import fs
from workflow import audit
from workflow.db import transaction
from workflow.models import StoredFile
from workflow.runtime import Runtime
from workflow.storage.blobs import sha256_hex, store_file
from workflow.storage.gc import collect_garbage

PDF = "application/pdf"


class Boom(Exception):
    pass


def _rows(rt: Runtime) -> set[str]:
    with transaction(rt.read_sessions) as s:
        return set(s.scalars(select(StoredFile.sha256)))


def _files(rt: Runtime) -> list[tuple[str, str | None]]:
    """(kind, sha256) of every file in the store, found by walking its folders."""
    found: list[tuple[str, str | None]] = []
    for path in fs(rt).root.glob("??/*"):
        if path.name.startswith(".pending."):
            found.append(("pending", path.parent.name + path.name.split(".")[2]))
        elif path.name.startswith("."):
            found.append(("temporary", None))
        else:
            found.append(("final", path.parent.name + path.name))
    return sorted(found, key=lambda f: (f[0], f[1] or ""))


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def _orphan_final(rt: Runtime, data: bytes) -> Path:
    """A file under its final name that no row records (what a crash left before the
    pending protocol)."""
    sha = sha256_hex(data)
    path = fs(rt).root / sha[:2] / sha[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_file_appears_under_its_name_only_when_its_row_commits(rt: Runtime) -> None:
    data = b"committed bytes"
    sha = sha256_hex(data)
    with transaction(rt.sessions) as session:
        assert store_file(session, rt.blobs, data, PDF) == sha
        assert not fs(rt).has_final(sha)  # not before the commit
        assert [kind for kind, _ in _files(rt)] == ["pending"]
        assert rt.blobs.get(sha) == data  # the transaction reads what it stored
    assert fs(rt).has_final(sha)
    assert _files(rt) == [("final", sha)]
    assert rt.blobs.get(sha) == data
    assert sha in _rows(rt)


def test_a_rolled_back_transaction_leaves_no_file(rt: Runtime) -> None:
    data = b"rolled back bytes"

    def store_then_fail() -> None:
        with transaction(rt.sessions) as session:
            store_file(session, rt.blobs, data, PDF)
            raise Boom

    with pytest.raises(Boom):
        store_then_fail()
    assert _files(rt) == []
    assert sha256_hex(data) not in _rows(rt)
    with pytest.raises(FileNotFoundError):
        rt.blobs.get(sha256_hex(data))


def test_a_rolled_back_savepoint_takes_its_file_along_and_no_other(rt: Runtime) -> None:
    kept, undone, released = b"outer", b"savepoint rolled back", b"savepoint released"

    def store_in_savepoint_then_fail(session: Session) -> None:
        with session.begin_nested():
            store_file(session, rt.blobs, undone, PDF)
            raise Boom

    with transaction(rt.sessions) as session:
        store_file(session, rt.blobs, kept, PDF)
        with pytest.raises(Boom):
            store_in_savepoint_then_fail(session)
        assert fs(rt).pending_files(sha256_hex(undone)) == []  # discarded at once
        with session.begin_nested():
            store_file(session, rt.blobs, released, PDF)
        assert not fs(rt).has_final(sha256_hex(released))  # waits for the outer commit
    assert _files(rt) == sorted([("final", sha256_hex(kept)), ("final", sha256_hex(released))])
    assert _rows(rt) >= {sha256_hex(kept), sha256_hex(released)}
    assert sha256_hex(undone) not in _rows(rt)


def test_the_same_bytes_twice_in_one_transaction_make_one_file(rt: Runtime) -> None:
    data = b"twice"
    with transaction(rt.sessions) as session:
        store_file(session, rt.blobs, data, PDF)
        store_file(session, rt.blobs, data, PDF)
    assert _files(rt) == [("final", sha256_hex(data))]
    with transaction(rt.sessions) as session:  # already in place: nothing is written
        store_file(session, rt.blobs, data, PDF)
        assert _files(rt) == [("final", sha256_hex(data))]


def test_gc_removes_only_old_unrecorded_files(rt: Runtime) -> None:
    with transaction(rt.sessions) as session:
        recorded = store_file(session, rt.blobs, b"recorded", PDF)
    old_orphan = _orphan_final(rt, b"old orphan")
    _orphan_final(rt, b"new orphan")
    pending = fs(rt).stage(b"old pending")  # as left by a process that died
    legacy = fs(rt).root / recorded[:2] / ".incoming-abc123"
    legacy.write_bytes(b"half a file")
    for path in (old_orphan, pending.path, legacy, fs(rt).root / recorded[:2] / recorded[2:]):
        _age(path, hours=2)

    dry = collect_garbage(rt, dry_run=True)
    assert dry.removed_unrecorded == (old_orphan,)
    assert set(dry.removed_temporary) == {pending.path, legacy}
    assert dry.kept_recent == 1
    assert old_orphan.exists() and pending.path.exists() and legacy.exists()
    with transaction(rt.read_sessions) as s:
        assert not [r for r in audit.export(s) if r["action"] == "storage.gc"]

    report = collect_garbage(rt)
    assert report.removed_unrecorded == (old_orphan,)
    assert set(report.removed_temporary) == {pending.path, legacy}
    assert report.kept_recent == 1  # the new orphan: younger than an hour
    assert _files(rt) == sorted([("final", recorded), ("final", sha256_hex(b"new orphan"))])
    assert rt.blobs.get(recorded) == b"recorded"
    assert sha256_hex(b"old orphan") not in _rows(rt)  # gc's claim was released
    with transaction(rt.read_sessions) as s:
        assert audit.verify(s).ok
        record = audit.export(s)[-1]
    assert record["action"] == "storage.gc"
    assert record["payload"] == {
        "completed": 0,
        "removed_temporary": 2,
        "removed_unrecorded": 1,
        "older_than_s": 3600,
    }

    # A lower threshold reaches the newer orphan too; a second run finds nothing to do.
    assert collect_garbage(rt, older_than=timedelta(0)).removed_unrecorded
    again = collect_garbage(rt)
    assert not again.changed
    assert _files(rt) == [("final", recorded)]


def test_gc_keeps_an_old_file_once_a_transaction_records_it(rt: Runtime) -> None:
    data = b"left by a crash, then stored again"
    orphan = _orphan_final(rt, data)
    _age(orphan, hours=2)
    with transaction(rt.sessions) as session:
        store_file(session, rt.blobs, data, PDF)
    report = collect_garbage(rt)
    assert not report.changed
    assert rt.blobs.get(sha256_hex(data)) == data
