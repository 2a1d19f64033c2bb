"""A process killed (SIGKILL) while it archives a signed document leaves no orphan file and
no record without its file, once recovered. The process is really killed, at points made
deterministic by hooks on its transaction commit (tests/archive/crash_child.py): holding
the commit (killed before it), or dying right after it (before the new files are renamed)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from tests.archive.helpers import signed_letter
from workflow.archive.archiving import archive_document
from workflow.archive.verify import verify_archive
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord, Document, StoredFile
from workflow.runtime import Runtime
from workflow.states import Status
from workflow.storage.blobs import FileBlobStore, sha256_hex
from workflow.storage.gc import collect_garbage

ROOT = Path(__file__).resolve().parents[2]
_HANG_GUARD_S = 300  # only so that a broken child cannot hang the suite; never reached


def _fs(rt: Runtime) -> FileBlobStore:
    if not isinstance(rt.blobs, FileBlobStore):
        pytest.skip("the filesystem blob store")
    return rt.blobs


def _child(rt: Runtime, command: str, args: dict[str, Any], **kw: Any) -> subprocess.Popen[bytes]:
    assert rt.signing.demo_pki is not None
    payload = {
        "var_dir": str(rt.settings.var_dir),
        "database_url": rt.settings.storage.database_url,
        "pki_dir": str(rt.signing.demo_pki.directory),
        **args,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.archive.crash_child", command, json.dumps(payload)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw,
    )  # fmt: skip


def _rows(rt: Runtime) -> set[str]:
    with transaction(rt.read_sessions) as s:
        return set(s.scalars(sql_select(StoredFile.sha256)))


def _records(rt: Runtime) -> int:
    with transaction(rt.read_sessions) as s:
        return s.scalar(sql_select(func.count()).select_from(ArchiveRecord)) or 0


def _finals(rt: Runtime) -> set[str]:
    return {e.sha256 for e in _fs(rt).entries() if e.kind == "final" and e.sha256}


def _no_orphans_and_no_record_without_its_file(rt: Runtime) -> None:
    assert _finals(rt) <= _rows(rt)  # no file without its row
    assert [e.path for e in _fs(rt).entries() if e.kind != "final"] == []  # nothing pending
    with transaction(rt.read_sessions) as s:
        for r in s.scalars(sql_select(ArchiveRecord)):
            for sha in (r.pdf_sha256, r.audit_extract_sha256, r.validation_report_sha256):
                assert sha in _finals(rt), f"record {r.id} lacks its file {sha}"
                assert sha256_hex(rt.blobs.get(sha)) == sha


def test_killed_before_the_commit_leaves_no_record_and_gc_removes_the_leftovers(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    _fs(rt)
    doc_id = signed_letter(rt, actors, demo)
    rows_before = _rows(rt)
    ready_r, ready_w = os.pipe()
    child = _child(
        rt, "before-commit",
        {"document_id": doc_id, "user_id": actors["archiwista"].user_id, "ready_fd": ready_w},
        pass_fds=(ready_w,),
    )  # fmt: skip
    os.close(ready_w)
    try:
        readable, _, _ = select.select([ready_r], [], [], _HANG_GUARD_S)
        said = os.read(ready_r, 100) if readable else b""
        if said != b"at-commit\n":
            child.kill()
            _, err = child.communicate()
            raise AssertionError(f"the child never reached the commit: {err.decode()[-3000:]}")
        child.send_signal(signal.SIGKILL)  # the record and its files written, not committed
        child.communicate()
    finally:
        os.close(ready_r)
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == -signal.SIGKILL

    assert _records(rt) == 0 and _rows(rt) == rows_before
    with transaction(rt.read_sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.status == Status.SIGNED
    leftovers = [e for e in _fs(rt).entries() if e.kind != "final"]
    assert {e.kind for e in leftovers} == {"pending"}  # the evidence JSON files, unrecorded
    assert all(e.sha256 not in _rows(rt) for e in leftovers)
    then = time.time() - 2 * 3600
    for e in leftovers:
        os.utime(e.path, (then, then))
    assert len(collect_garbage(rt).removed_temporary) == len(leftovers)
    _no_orphans_and_no_record_without_its_file(rt)

    # Archiving again, now to the end, works and verifies.
    archive_document(rt, actor=actors["archiwista"], document_id=doc_id)
    _no_orphans_and_no_record_without_its_file(rt)
    assert verify_archive(rt, rt.signing.trust).ok


def test_killed_after_the_commit_the_record_keeps_its_files(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    _fs(rt)
    doc_id = signed_letter(rt, actors, demo)
    child = _child(
        rt, "after-commit", {"document_id": doc_id, "user_id": actors["archiwista"].user_id}
    )
    _, err = child.communicate(timeout=_HANG_GUARD_S)
    assert child.returncode == -signal.SIGKILL, err.decode()[-3000:]

    assert _records(rt) == 1  # the commit happened ...
    pending = {e.sha256 for e in _fs(rt).entries() if e.kind == "pending"}
    assert pending and pending <= _rows(rt)  # ... the renames did not
    with transaction(rt.read_sessions) as s:
        record = s.scalars(sql_select(ArchiveRecord)).one()
        evidence = {record.audit_extract_sha256, record.validation_report_sha256}
    assert pending == evidence
    for sha in evidence:  # readers still find them (pending, checked against the hash)
        assert sha256_hex(rt.blobs.get(sha)) == sha

    report = verify_archive(rt, rt.signing.trust)  # recovery: finishes the renames
    assert set(report.completed_files) == evidence
    assert report.ok, report.problems
    _no_orphans_and_no_record_without_its_file(rt)
