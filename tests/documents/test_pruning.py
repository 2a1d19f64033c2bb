"""``documents.prune``: old previews go (their page images too, unless a kept preview shows
the same page), working drafts of documents no longer editable go, a person's unsaved work
on an editable document stays; blobs gc then removes the files left unrecorded."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tests.letters import rybnik_letter
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.pruning import prune_converter_profiles, prune_drafting
from workflow.identity.actors import Actor
from workflow.jobs.registry import spec_of
from workflow.models import PreviewRender, StoredFile, WorkingDraft
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.storage.blobs import FileBlobStore, store_file
from workflow.storage.gc import collect_garbage

PNG = b"\x89PNG\r\n\x1a\n"


def _page(rt: Runtime, label: str) -> str:
    with transaction(rt.sessions) as session:
        return store_file(session, rt.blobs, PNG + label.encode(), "image/png")


def _preview(rt: Runtime, doc_id: int, pages: list[str], *, age_days: int, status: str) -> int:
    with transaction(rt.sessions) as session:
        row = PreviewRender(
            document_id=doc_id, context_sha256=f"{age_days}-{status}-{len(pages)}".ljust(64, "0"),
            field_values={}, status=status, page_sha256s=pages,
            created_at=datetime.now(UTC) - timedelta(days=age_days),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_old_previews_and_their_unshared_pages_go_and_gc_takes_the_files(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    only_old, shared, only_new = (_page(rt, x) for x in ("old", "shared", "new"))
    old = _preview(rt, doc.id, [only_old, shared], age_days=40, status="ready")
    pending = _preview(rt, doc.id, [], age_days=40, status="pending")
    new = _preview(rt, doc.id, [shared, only_new], age_days=1, status="ready")

    report = prune_drafting(rt)
    assert (report.previews, report.page_files) == (1, 1)
    with rt.read_sessions() as session:
        kept = set(session.scalars(select(PreviewRender.id)))
        recorded = set(session.scalars(select(StoredFile.sha256)))
    assert old not in kept and {pending, new} <= kept  # a render still running is left alone
    assert only_old not in recorded and {shared, only_new} <= recorded

    assert isinstance(rt.blobs, FileBlobStore)
    collect_garbage(rt, older_than=timedelta(0))
    assert not rt.blobs.exists(only_old)
    assert rt.blobs.get(shared) == PNG + b"shared" and rt.blobs.get(only_new) == PNG + b"new"

    again = prune_drafting(rt)
    assert (again.previews, again.page_files, again.working_drafts) == (0, 0, 0)


def test_working_drafts_go_only_where_the_document_can_no_longer_be_edited(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    editable = rybnik_letter(rt, actors, demo)
    submitted = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=submitted.id, action="submit")
    author = actors["autor"].user_id
    long_ago = datetime.now(UTC) - timedelta(days=400)
    with transaction(rt.sessions) as session:
        for doc_id in (editable.id, submitted.id):
            session.add(
                WorkingDraft(
                    document_id=doc_id,
                    user_id=author,
                    based_on_version=1,
                    form_values={"cel": "niezapisany tekst"},
                    updated_at=long_ago,
                )
            )
    assert prune_drafting(rt).working_drafts == 1
    with rt.read_sessions() as session:
        left = list(session.scalars(select(WorkingDraft.document_id)))
    assert left == [editable.id]  # unsaved work on an editable document stays, however old


def test_profile_folders_of_ended_processes_go(tmp_path: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    for name in (str(ended.pid), str(os.getpid()), "cold"):
        (tmp_path / name / "user").mkdir(parents=True)
    assert prune_converter_profiles(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([str(os.getpid()), "cold"])


def test_it_runs_daily_as_a_job() -> None:
    assert spec_of("documents.prune").cron == "0 3 * * *"
