"""The transactional outbox: effects are written with the change, exactly as the table
declares them, handed to the queue once per dispatch, and never sent for a rollback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.jobs.outbox_helpers import audit_actions, entries, run_jobs
from tests.letters import rybnik_letter
from workflow import outbox
from workflow.archive.archiving import archive_with_view
from workflow.demo.data import DemoIds
from workflow.documents.drafting import edit_document
from workflow.documents.reading import get_document
from workflow.identity.actors import Actor
from workflow.jobs.dispatch import dispatch_pending
from workflow.jobs.queue import queue_of
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.signing.service import sign_with_demo_key
from workflow.states import CREATION_EFFECTS, Action, Effect, Status, effects_of


class _Refused(Exception):
    pass


def test_a_rolled_back_use_case_leaves_no_outbox_row_and_wakes_no_one(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    before = len(entries(rt))
    woken: list[int] = []
    outbox.set_waker(rt.sessions, lambda: woken.append(1))

    def fail(session: Session) -> None:
        raise _Refused  # the commit itself fails: everything written rolls back

    event.listen(rt.sessions, "before_commit", fail)
    try:
        with pytest.raises(_Refused):
            transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    finally:
        event.remove(rt.sessions, "before_commit", fail)
    assert len(entries(rt)) == before
    assert woken == []
    assert get_document(rt, actor=actors["autor"], document_id=doc.id).status == Status.DRAFT

    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    assert woken == [1]  # the same change, committed, wakes the dispatcher once
    outbox.set_waker(rt.sessions, None)


def test_each_committed_change_leaves_exactly_its_declared_effects(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    seen = 0

    def new_effects() -> list[Effect]:
        nonlocal seen
        rows = entries(rt)
        fresh = [r.effect for r in rows[seen:]]
        seen = len(rows)
        return fresh

    autor, recenzent = actors["autor"], actors["recenzent"]
    doc = rybnik_letter(rt, actors, demo)
    assert new_effects() == list(CREATION_EFFECTS)
    steps: list[tuple[Actor, str, str | None]] = [
        (autor, "submit", None),
        (recenzent, "request_changes", "Proszę dodać cel."),
    ]
    for actor, action, reason in steps:
        doc = transition(rt, actor=actor, document_id=doc.id, action=action, reason=reason)
        assert new_effects() == list(effects_of(Action(action), doc.status)), action
    doc = edit_document(rt, actor=autor, document_id=doc.id, values={"goals": ["cel"]})
    assert new_effects() == list(effects_of(Action.EDIT, doc.status))
    assert effects_of(Action.EDIT, doc.status) == (Effect.RENDER_PDF, Effect.INDEX_DOCUMENT)
    for actor, action in ((autor, "submit"), (recenzent, "approve"), (autor, "request_signatures")):
        doc = transition(rt, actor=actor, document_id=doc.id, action=action)
        assert new_effects() == list(effects_of(Action(action), doc.status)), action
    doc = sign_with_demo_key(
        rt, actor=actors["prezes"], document_id=doc.id,
        presented_pdf_sha256=doc.current_pdf_sha256 or "",
    )  # fmt: skip
    assert new_effects() == [Effect.NOTIFY_NEXT_SIGNATORY, Effect.INDEX_DOCUMENT]
    doc = sign_with_demo_key(
        rt, actor=actors["prezydent"], document_id=doc.id,
        presented_pdf_sha256=doc.current_pdf_sha256 or "",
    )  # fmt: skip
    assert doc.status == Status.SIGNED
    assert new_effects() == [Effect.NOTIFY_ALL_SIGNED, Effect.INDEX_DOCUMENT]
    doc = archive_with_view(rt, actor=actors["archiwista"], document_id=doc.id).document
    assert new_effects() == list(effects_of(Action.ARCHIVE, doc.status))


def test_the_dispatcher_hands_each_row_to_the_queue_once_and_marks_it(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    pending = [e for e in entries(rt) if e.dispatched_at is None]
    assert len(pending) == 4  # render, index (creation); notify, index (submit)
    assert dispatch_pending(rt) == 4
    rows = entries(rt)
    assert all(r.dispatched_at is not None and r.job_id is not None for r in rows)
    queue = queue_of(rt)
    jobs = [queue.get(r.job_id) for r in rows if r.job_id is not None]
    assert sorted(j.name for j in jobs if j is not None) == [
        "documents.render_pdf", "notifications.notify",
        "search.index_document", "search.index_document",
    ]  # fmt: skip
    assert all(
        j is not None and j.args == {"entry_id": r.id} for j, r in zip(jobs, rows, strict=True)
    )
    assert dispatch_pending(rt) == 0  # handed over: not again
    assert [r.job_id for r in entries(rt)] == [r.job_id for r in rows]


def test_a_crash_between_commit_and_hand_over_is_delivered_by_the_sweep(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    # No dispatcher runs here: as if the process died right after its commit.
    doc = rybnik_letter(rt, actors, demo)
    assert [(r.effect, r.dispatched_at) for r in entries(rt)] == [
        (effect, None) for effect in CREATION_EFFECTS
    ]
    assert dispatch_pending(rt, older_than=timedelta(minutes=1)) == 0  # too fresh to sweep
    assert dispatch_pending(rt, older_than=timedelta(0)) == len(CREATION_EFFECTS)  # later
    run_jobs(rt)
    assert all(row.completed_at is not None for row in entries(rt))
    view = get_document(rt, actor=actors["autor"], document_id=doc.id)
    assert view.current_version.pdf_sha256 is not None
    assert len(audit_actions(rt, "document.rendered")) == 1
