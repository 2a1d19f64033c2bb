"""Review states through the use-cases: guards, approvals voided by edits, racing reviewers."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.letters import rybnik_letter
from workflow import audit
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.drafting import edit_document
from workflow.documents.reading import get_document
from workflow.errors import (
    ConflictingChange,
    ErrorCode,
    EstrategiaError,
    GuardRefused,
    InvalidInput,
    NotPermitted,
    TransitionNotAllowed,
)
from workflow.identity.actors import Actor, hash_password, load_actor
from workflow.models import Approval, Document, Membership, User
from workflow.review.transitions import available_actions, transition
from workflow.runtime import Runtime
from workflow.states import Action, Refusal, Role, Status


def _second_reviewer(rt: Runtime, demo: DemoIds) -> Actor:
    with transaction(rt.sessions) as s:
        user = User(
            email="recenzentka@e-izba.demo", full_name="Ewa Lis", password_hash=hash_password("x")
        )
        user.memberships.append(
            Membership(organisation_id=demo.organisations["eizba"], role=Role.REVIEWER)
        )
        s.add(user)
        s.flush()
        return load_actor(s, user.id)


def test_the_review_loop(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> None:
    autor, recenzent = actors["autor"], actors["recenzent"]
    doc = rybnik_letter(rt, actors, demo)
    assert [a.action for a in available_actions(rt, actor=autor, document_id=doc.id)] == [
        Action.EDIT, Action.SUBMIT, Action.WITHDRAW,
    ]  # fmt: skip
    doc = transition(rt, actor=autor, document_id=doc.id, action="submit")
    assert doc.status == Status.IN_REVIEW
    assert doc.current_version.pdf_sha256 is not None  # reviewers review the PDF

    with pytest.raises(GuardRefused) as refused:
        transition(rt, actor=recenzent, document_id=doc.id, action="request_changes")
    assert refused.value.code == Refusal.REASON_REQUIRED
    doc = transition(
        rt, actor=recenzent, document_id=doc.id, action="request_changes",
        reason="Proszę doprecyzować formy współpracy.",
    )  # fmt: skip
    assert doc.status == Status.CHANGES_REQUESTED

    doc = edit_document(
        rt, actor=autor, document_id=doc.id,
        values={"cooperation_forms": ["warsztaty dla urzędników", "konferencja w Rybniku"]},
    )  # fmt: skip
    assert doc.status == Status.DRAFT and doc.current_version.number == 2
    doc = transition(rt, actor=autor, document_id=doc.id, action="submit")
    with pytest.raises(NotPermitted) as refused:
        transition(rt, actor=autor, document_id=doc.id, action="approve")
    assert refused.value.code == Refusal.ROLE_REQUIRED
    assert refused.value.params["roles"] == [Role.REVIEWER]
    doc = transition(rt, actor=recenzent, document_id=doc.id, action="approve")
    assert doc.status == Status.APPROVED

    with transaction(rt.sessions) as s:
        trail = [r["action"] for r in audit.export(s, document_id=doc.id)]
        assert audit.verify(s).ok
    assert trail == [
        "document.created", "document.rendered", "document.submit", "document.request_changes",
        "document.edited", "document.rendered", "document.submit", "document.approve",
    ]  # fmt: skip


def test_an_action_not_allowed_names_the_status_and_the_allowed_actions(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    with pytest.raises(TransitionNotAllowed) as exc:
        transition(rt, actor=actors["autor"], document_id=doc.id, action="archive")
    assert exc.value.status == "draft"
    assert exc.value.allowed == ["edit", "submit", "withdraw"]
    assert exc.value.code == ErrorCode.TRANSITION_NOT_ALLOWED
    assert exc.value.message("pl").startswith(
        "Akcja „Archiwizuj” jest niedozwolona w statusie „szkic”"
    )
    with pytest.raises(InvalidInput) as unknown:
        transition(rt, actor=actors["autor"], document_id=doc.id, action="teleport")
    assert unknown.value.field == "action"
    assert unknown.value.code == ErrorCode.NOT_ONE_OF


def test_a_reviewer_cannot_approve_a_version_they_wrote(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    with transaction(rt.sessions) as s:
        s.add(
            Membership(
                user_id=demo.people["recenzent"], organisation_id=demo.organisations["eizba"],
                role=Role.AUTHOR,
            )
        )  # fmt: skip
    with rt.sessions() as s:
        writer_reviewer = load_actor(s, demo.people["recenzent"])
    doc = rybnik_letter(rt, actors, demo)
    edit_document(rt, actor=writer_reviewer, document_id=doc.id, values={"goals": ["e-usługi"]})
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    with pytest.raises(GuardRefused) as refused:
        transition(rt, actor=writer_reviewer, document_id=doc.id, action="approve")
    assert refused.value.code == Refusal.REVIEWER_WROTE_VERSION
    other = _second_reviewer(rt, demo)
    assert transition(rt, actor=other, document_id=doc.id, action="approve").status == "approved"


def test_an_edit_after_approval_returns_to_draft_and_voids_approvals(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    transition(rt, actor=actors["recenzent"], document_id=doc.id, action="approve")
    doc = edit_document(rt, actor=actors["autor"], document_id=doc.id, values={"goals": ["nowy"]})
    assert doc.status == Status.DRAFT and doc.current_version.number == 2
    with transaction(rt.sessions) as s:
        approvals = s.scalars(select(Approval).where(Approval.document_id == doc.id)).all()
        assert len(approvals) == 1 and approvals[0].voided_at is not None
        edited = [
            r for r in audit.export(s, document_id=doc.id) if r["action"] == "document.edited"
        ]
    assert edited[-1]["payload"]["approvals_voided"] == 1
    assert edited[-1]["payload"]["from_status"] == "approved"


def test_no_edit_while_in_review(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    with pytest.raises(TransitionNotAllowed) as exc:
        edit_document(rt, actor=actors["autor"], document_id=doc.id, values={"goals": ["x"]})
    assert exc.value.status == "in_review"


def test_withdrawn_is_final(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> None:
    doc = rybnik_letter(rt, actors, demo)
    doc = transition(
        rt, actor=actors["autor"], document_id=doc.id, action="withdraw", reason="Rezygnacja"
    )
    assert doc.status == Status.WITHDRAWN
    assert available_actions(rt, actor=actors["autor"], document_id=doc.id) == []


def test_two_racing_approvals_give_one_transition_and_one_conflict(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    doc = transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    reviewers = [actors["recenzent"], _second_reviewer(rt, demo)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def approve(reviewer: Actor) -> None:
        barrier.wait()
        try:
            outcomes.append(
                transition(
                    rt, actor=reviewer, document_id=doc.id, action="approve",
                    seen_lock_version=doc.lock_version,
                )
            )  # fmt: skip
        except EstrategiaError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=approve, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [o for o in outcomes if isinstance(o, EstrategiaError)]
    assert len(outcomes) == 2 and len(errors) == 1
    assert isinstance(errors[0], ConflictingChange)
    final = get_document(rt, actor=actors["autor"], document_id=doc.id)
    assert final.status == Status.APPROVED and final.lock_version == doc.lock_version + 1
    with transaction(rt.sessions) as s:
        assert len(s.scalars(select(Approval).where(Approval.document_id == doc.id)).all()) == 1
        assert audit.verify(s).ok


def test_a_converter_timeout_fails_cleanly_and_changes_nothing(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, tmp_path: object
) -> None:
    from pathlib import Path

    from workflow.errors import RenderingFailed
    from workflow.models import Rendition
    from workflow.rendering.converter import WarmConverterPool
    from workflow.runtime import build_runtime

    doc = rybnik_letter(rt, actors, demo)
    assert isinstance(tmp_path, Path)
    # A real LibreOffice given no time at all, in a second runtime on the same database.
    impatient = WarmConverterPool(1, workdir=tmp_path / "converter", timeout=0.001)
    hurried = build_runtime(rt.settings, converter=impatient)
    try:
        with pytest.raises(RenderingFailed):
            transition(hurried, actor=actors["autor"], document_id=doc.id, action="submit")
    finally:
        hurried.close()
        impatient.close()
    after = get_document(rt, actor=actors["autor"], document_id=doc.id)
    assert after.status == Status.DRAFT
    assert after.lock_version == doc.lock_version
    with transaction(rt.sessions) as s:
        assert s.scalars(select(Rendition)).all() == []
        assert [r["action"] for r in audit.export(s, document_id=doc.id)] == ["document.created"]
    # The shared converter still works: the same request succeeds afterwards.
    assert transition(rt, actor=actors["autor"], document_id=doc.id, action="submit").status == (
        Status.IN_REVIEW
    )


def test_archiving_without_its_archive_record_is_refused(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    """The ARCHIVE row of the table is taken only through workflow.archive, which writes
    the write-once record in the same transaction; a bare transition changes nothing."""
    from tests.archive.helpers import signed_letter

    doc_id = signed_letter(rt, actors, demo)
    with pytest.raises(InvalidInput) as exc:
        transition(rt, actor=actors["archiwista"], document_id=doc_id, action="archive")
    assert exc.value.code == ErrorCode.ARCHIVE_BY_ARCHIVE_STEP
    with rt.read_sessions() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.status == Status.SIGNED
