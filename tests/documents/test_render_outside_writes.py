"""Rendering runs with no transaction open (issue 6, defect 3): a slow render holds up
no other user's write, and what changed during the render is checked before storing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.letters import letter_values, rybnik_letter
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents import drafting
from workflow.documents.comments import add_comment
from workflow.documents.drafting import edit_document
from workflow.documents.reading import history, list_documents
from workflow.errors import ConflictingChange
from workflow.identity.actors import Actor
from workflow.models import AuditRecord
from workflow.runtime import Runtime


class HeldRender:
    """Wraps the real render_docx: the first call waits until the test lets it go on."""

    def __init__(self, real: Callable[..., bytes]) -> None:
        self.real = real
        self.started = threading.Event()
        self.release = threading.Event()
        self.released_by_test: list[bool] = []
        self.calls = 0

    def __call__(self, template: bytes, context: Any, **kwargs: Any) -> bytes:
        self.calls += 1
        if self.calls == 1:
            self.started.set()
            self.released_by_test.append(self.release.wait(timeout=60))
        return self.real(template, context, **kwargs)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldRender]:
    render = HeldRender(drafting.render_docx)
    monkeypatch.setattr(drafting, "render_docx", render)
    yield render
    render.release.set()


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except Exception as exc:  # handed to the test thread, which asserts on it
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def audit_actions(rt: Runtime) -> list[str]:
    with transaction(rt.read_sessions) as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))


def test_another_users_write_completes_while_a_render_is_in_progress(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, held: HeldRender
) -> None:
    held.calls = 1  # the first document renders without waiting
    existing = rybnik_letter(rt, actors, demo)
    held.calls = 0
    thread, outcome = in_thread(lambda: rybnik_letter(rt, actors, demo, title="Drugi list"))
    assert held.started.wait(timeout=60)
    # The render is waiting for this test; on SQLite a writer holding BEGIN IMMEDIATE
    # through it would keep this comment waiting until the render timed out.
    add_comment(rt, actor=actors["recenzent"], document_id=existing.id, body="Pilne.")
    second = rybnik_letter(rt, actors, demo, title="Trzeci list")  # renders, stores
    held.release.set()
    thread.join(timeout=120)
    assert held.released_by_test == [True]  # the render went on only after both writes
    assert "error" not in outcome, outcome.get("error")
    titles = [d.title for d in list_documents(rt, actor=actors["autor"])]
    assert sorted(titles) == sorted([existing.title, "Drugi list", "Trzeci list"])
    actions = audit_actions(rt)
    assert actions[-3:] == ["document.commented", "document.created", "document.created"]
    # The held document was reserved a number first but another took it: it got the next.
    assert outcome["result"].reference != second.reference


def test_an_edit_that_moved_during_its_render_is_a_conflict(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, held: HeldRender
) -> None:
    held.calls = 1
    doc = rybnik_letter(rt, actors, demo)
    held.calls = 0
    author = actors["autor"]
    values = {"strategy_name": "Strategia A"}
    thread, outcome = in_thread(
        lambda: edit_document(
            rt, actor=author, document_id=doc.id, values=values, seen_lock_version=1
        )
    )
    assert held.started.wait(timeout=60)
    edit_document(rt, actor=author, document_id=doc.id, values={"strategy_name": "Strategia B"})
    held.release.set()
    thread.join(timeout=120)
    assert isinstance(outcome.get("error"), ConflictingChange)
    versions = history(rt, actor=author, document_id=doc.id)
    assert [v.number for v in versions] == [1, 2]  # the held edit stored nothing


def test_an_edit_without_a_seen_version_is_rendered_again_on_the_newer_one(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, held: HeldRender
) -> None:
    held.calls = 1
    doc = rybnik_letter(rt, actors, demo)
    held.calls = 0
    author = actors["autor"]
    thread, outcome = in_thread(
        lambda: edit_document(rt, actor=author, document_id=doc.id, values={"preamble": "P."})
    )
    assert held.started.wait(timeout=60)
    edit_document(rt, actor=author, document_id=doc.id, values={"strategy_name": "Strategia B"})
    held.release.set()
    thread.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    latest = outcome["result"].current_version
    assert latest.number == 3
    assert latest.field_values["strategy_name"] == "Strategia B"  # merged into the newer
    assert latest.field_values["preamble"] == "P."
    assert letter_values()["preamble"] != "P."
