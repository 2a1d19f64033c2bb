"""``archive verify``: a changed and a removed archived file are reported by record (and
never served), the signed letter re-validates offline, the audit chain is checked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.archive.helpers import archive_pdf, plain_pdf, signed_letter
from workflow.archive.archiving import archive_document
from workflow.archive.records import record_file
from workflow.archive.verify import verify_archive
from workflow.cli.main import main as cli_main
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.errors import ErrorCode, GuardRefused, NotFound
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord
from workflow.runtime import Runtime
from workflow.storage.blobs import FileBlobStore


def _path(rt: Runtime, sha: str) -> Path:
    assert isinstance(rt.blobs, FileBlobStore)
    return rt.blobs.root / sha[:2] / sha[2:]


def _pdf_sha(rt: Runtime, record_id: int) -> str:
    with transaction(rt.read_sessions) as s:
        return s.scalars(
            select(ArchiveRecord.pdf_sha256).where(ArchiveRecord.id == record_id)
        ).one()


def test_an_intact_archive_verifies_with_the_signatures_revalidated_offline(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    doc_id = signed_letter(rt, actors, demo)
    record_id = archive_document(rt, actor=actors["archiwista"], document_id=doc_id)
    report = verify_archive(rt, rt.signing.trust)
    assert report.ok, report.problems
    assert report.checked == 1 and report.ok_records == (record_id,)
    assert report.audit_checked > 0
    # with nobody trusted, the signatures that were valid cannot be confirmed: reported
    untrusted = verify_archive(rt, None)
    assert [(p.record_id, p.kind) for p in untrusted.problems] == [(record_id, "signature_invalid")]


def test_a_changed_and_a_removed_file_are_reported_by_record_and_never_served(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    if not isinstance(rt.blobs, FileBlobStore):
        pytest.skip("the filesystem store")
    archivist = actors["archiwista"]
    changed = archive_pdf(rt, demo, archivist, plain_pdf("zmieniona"), title="Zmieniona")
    removed = archive_pdf(rt, demo, archivist, plain_pdf("usunieta"), title="Usunięta")
    intact = archive_pdf(rt, demo, archivist, plain_pdf("cala"), title="Cała")
    path = _path(rt, _pdf_sha(rt, changed))
    os.chmod(path, 0o600)
    path.write_bytes(path.read_bytes().replace(b"zmieniona", b"ZMIENIONA"))
    _path(rt, _pdf_sha(rt, removed)).unlink()

    report = verify_archive(rt, rt.signing.trust)

    assert not report.ok
    assert sorted((p.record_id, p.kind, p.title) for p in report.problems) == [
        (changed, "file_changed", "Zmieniona"),
        (removed, "file_missing", "Usunięta"),
    ]
    assert report.ok_records == (intact,)
    with pytest.raises(GuardRefused) as damaged:
        record_file(rt, actor=archivist, record_id=changed)
    assert damaged.value.code == ErrorCode.ARCHIVE_FILE_DAMAGED
    with pytest.raises(NotFound) as missing:
        record_file(rt, actor=archivist, record_id=removed)
    assert missing.value.code == ErrorCode.ARCHIVE_FILE_MISSING


def test_the_command_exits_0_when_intact_and_1_naming_each_record_otherwise(
    rt: Runtime,
    demo: DemoIds,
    actors: dict[str, Actor],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(rt.settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", rt.settings.storage.database_url)
    record_id = archive_pdf(rt, demo, actors["archiwista"], plain_pdf("cli"), title="Umowa CLI")
    assert cli_main(["archive", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    if not isinstance(rt.blobs, FileBlobStore):
        return
    _path(rt, _pdf_sha(rt, record_id)).unlink()
    assert cli_main(["archive", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"record {record_id}" in out and "Umowa CLI" in out and "missing" in out


def test_the_weekly_job_records_each_problem_for_the_administrators(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    from workflow.jobs.handlers.checks import latest_checks, verify_archive_holdings
    from workflow.jobs.registry import spec_of

    if not isinstance(rt.blobs, FileBlobStore):
        pytest.skip("the filesystem store")
    archivist = actors["archiwista"]
    kept = archive_pdf(rt, demo, archivist, plain_pdf("zostaje"), title="Zostaje")
    lost = archive_pdf(rt, demo, archivist, plain_pdf("zginie"), title="Zginie")
    assert verify_archive_holdings(rt).ok
    _path(rt, _pdf_sha(rt, lost)).unlink()

    assert not verify_archive_holdings(rt).ok
    (check,) = [
        c for c in latest_checks(rt, actor=actors["prezes"]) if c.check == "archive.verified"
    ]
    assert check.result["ok"] is False and check.result["checked"] == 2
    assert check.result["problem_count"] == 1
    assert [(p["record_id"], p["kind"]) for p in check.result["problems"]] == [
        (lost, "file_missing")
    ]
    assert kept != lost
    assert spec_of("archive.verify").cron == "0 4 * * 0"
