"""A process killed in the middle of storing a file leaves nothing visible that no row
records, and loses nothing that a row records. The process is really killed (SIGKILL), at
a point made deterministic by a hook on its transaction commit (tests/storage/crash_child.py).
"""

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

from sqlalchemy import select as sql_select

from tests.letters import rybnik_letter
from tests.storage import fs
from workflow import audit
from workflow.cli.main import main as cli_main
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.models import AuditRecord, Document, StoredFile
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.signing.service import sign_with_demo_key
from workflow.states import Status
from workflow.storage.blobs import sha256_hex

ROOT = Path(__file__).resolve().parents[2]
_HANG_GUARD_S = 300  # only so that a broken child cannot hang the suite; never reached


def _child(command: str, args: dict[str, Any], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.storage.crash_child", command, json.dumps(args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def _store_args(rt: Runtime) -> dict[str, Any]:
    return {"var_dir": str(rt.settings.var_dir), "database_url": rt.settings.storage.database_url}


def _rows(rt: Runtime) -> set[str]:
    with transaction(rt.read_sessions) as s:
        return set(s.scalars(sql_select(StoredFile.sha256)))


def _final_files(rt: Runtime) -> dict[str, Path]:
    """The files under a final name, found by walking the folder (not through the store)."""
    return {p.parent.name + p.name: p for p in fs(rt).root.glob("??/" + "[0-9a-f]" * 62)}


def _age_everything(rt: Runtime, hours: float) -> None:
    then = time.time() - hours * 3600
    for e in fs(rt).entries():
        os.utime(e.path, (then, then), follow_symlinks=False)


def _awaiting(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> int:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    transition(rt, actor=actors["recenzent"], document_id=doc.id, action="approve")
    transition(rt, actor=actors["autor"], document_id=doc.id, action="request_signatures")
    return doc.id


def _gc_cli(rt: Runtime, monkeypatch: Any, capsys: Any, *argv: str) -> str:
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(rt.settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", rt.settings.storage.database_url)
    assert cli_main(["blobs", "gc", *argv]) == 0
    out: str = capsys.readouterr().out
    return out


def test_killed_before_the_signing_commit_leaves_no_signed_copy_in_sight(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, monkeypatch: Any, capsys: Any
) -> None:
    document_id = _awaiting(rt, actors, demo)
    with transaction(rt.read_sessions) as s:
        doc = s.get(Document, document_id)
        assert doc is not None
        presented = doc.current_pdf_sha256 or ""
        last_seq = max(s.scalars(sql_select(AuditRecord.seq)))
    assert rt.signing.demo_pki is not None
    ready_r, ready_w = os.pipe()
    child = _child(
        "sign",
        {
            **_store_args(rt),
            "pki_dir": str(rt.signing.demo_pki.directory),
            "document_id": document_id,
            "user_id": actors["prezes"].user_id,
            "presented_pdf_sha256": presented,
            "ready_fd": ready_w,
        },
        pass_fds=(ready_w,),
    )
    os.close(ready_w)
    try:
        readable, _, _ = select.select([ready_r], [], [], _HANG_GUARD_S)
        said = os.read(ready_r, 100) if readable else b""
        if said != b"at-commit\n":
            child.kill()
            _, err = child.communicate()
            raise AssertionError(f"the child never reached the commit: {err.decode()[-3000:]}")
        # The child holds the signing transaction open, its signed PDF written: kill it.
        child.send_signal(signal.SIGKILL)
        child.communicate()
    finally:
        os.close(ready_r)
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == -signal.SIGKILL

    # Nothing of the signature was recorded ...
    with transaction(rt.read_sessions) as s:
        doc = s.get(Document, document_id)
        assert doc is not None
        assert doc.status == Status.AWAITING_SIGNATURES
        assert doc.current_pdf_sha256 == presented
        assert not list(s.scalars(sql_select(AuditRecord).where(AuditRecord.seq > last_seq)))
    # ... and nothing is visible under a final name without its row ...
    rows = _rows(rt)
    assert set(_final_files(rt)) <= rows
    # ... but the signed copy was written: it is left as a pending file that no row records.
    leftovers = [e for e in fs(rt).entries() if e.sha256 not in rows]
    assert [e.kind for e in leftovers] == ["pending"]

    # gc leaves young leftovers alone, removes old ones, and never a file with a row.
    out = _gc_cli(rt, monkeypatch, capsys)
    assert "0 temporary" in out
    assert leftovers[0].path.exists()
    _age_everything(rt, hours=2)
    out = _gc_cli(rt, monkeypatch, capsys, "--dry-run")
    assert f"would remove temporary {leftovers[0].path}" in out
    assert leftovers[0].path.exists()
    out = _gc_cli(rt, monkeypatch, capsys)
    assert f"removed temporary {leftovers[0].path}" in out
    assert not leftovers[0].path.exists()
    assert set(_final_files(rt)) == rows
    for sha in rows:
        assert sha256_hex(rt.blobs.get(sha)) == sha
    with transaction(rt.read_sessions) as s:
        assert audit.verify(s).ok
        record = audit.export(s)[-1]
    assert record["action"] == "storage.gc"
    assert record["payload"]["removed_temporary"] == 1
    assert record["payload"]["removed_unrecorded"] == 0

    # The President signs again, now to the end.
    signed = sign_with_demo_key(
        rt, actor=actors["prezes"], document_id=document_id, presented_pdf_sha256=presented
    )
    assert signed.current_pdf_sha256 in _final_files(rt)


def test_killed_between_commit_and_rename_the_row_keeps_its_file(
    rt: Runtime, monkeypatch: Any, capsys: Any
) -> None:
    data = b"%PDF-1.7 committed, then the process died\n"
    sha = sha256_hex(data)
    child = _child("store-and-die", {**_store_args(rt), "data_hex": data.hex()})
    _, err = child.communicate(timeout=_HANG_GUARD_S)
    assert child.returncode == -signal.SIGKILL, err.decode()[-3000:]

    assert sha in _rows(rt)  # the commit happened
    assert sha not in _final_files(rt)  # the rename did not
    assert rt.blobs.get(sha) == data  # a reader still finds the file: it is pending
    out = _gc_cli(rt, monkeypatch, capsys)  # at any age, gc finishes the rename
    assert f"completed {sha}" in out
    assert _final_files(rt)[sha].read_bytes() == data
    assert not fs(rt).pending_files(sha)
