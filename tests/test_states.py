"""The transition table, checked row by row (pure: no database)."""

from __future__ import annotations

import pytest

from workflow.states import (
    TRANSITIONS,
    Action,
    GuardContext,
    Refusal,
    Role,
    Status,
    actions_from,
    allowed_actions,
    refusal,
    transition_for,
)

ALL_ROLES = frozenset(Role)


def ctx(**kw: object) -> GuardContext:
    base: dict[str, object] = {
        "actor_id": 1,
        "actor_roles": ALL_ROLES,
        "version_author_ids": frozenset({2}),
        "reason": "powód",
        "signatory_ids": (1, 3),
        "expected_pdf_sha256": "a" * 64,
        "presented_pdf_sha256": "a" * 64,
        "has_pdf": True,
    }
    base.update(kw)
    return GuardContext(**base)  # type: ignore[arg-type]


def test_every_action_has_exactly_one_row() -> None:
    assert sorted(t.action for t in TRANSITIONS) == sorted(Action)


def test_terminal_statuses_offer_nothing_but_archive() -> None:
    assert actions_from(Status.WITHDRAWN) == []
    assert actions_from(Status.ARCHIVED) == []
    assert actions_from(Status.SIGNED) == [Action.ARCHIVE]


@pytest.mark.parametrize("t", TRANSITIONS, ids=lambda t: t.action.value)
def test_each_row_refuses_an_actor_without_its_roles(t: object) -> None:
    from workflow.states import Transition

    assert isinstance(t, Transition)
    others = ALL_ROLES - t.roles
    why = refusal(t, ctx(actor_roles=others))
    assert why is Refusal.ROLE_REQUIRED


@pytest.mark.parametrize("t", TRANSITIONS, ids=lambda t: t.action.value)
def test_each_row_passes_with_its_roles_and_satisfied_guards(t: object) -> None:
    from workflow.states import Transition

    assert isinstance(t, Transition)
    assert refusal(t, ctx(actor_roles=t.roles)) is None


def test_reviewer_cannot_approve_a_document_they_wrote() -> None:
    why = refusal(transition_for(Action.APPROVE), ctx(version_author_ids=frozenset({1})))
    assert why is Refusal.REVIEWER_WROTE_VERSION


def test_request_changes_needs_a_reason() -> None:
    for reason in (None, "", "   "):
        why = refusal(transition_for(Action.REQUEST_CHANGES), ctx(reason=reason))
        assert why is Refusal.REASON_REQUIRED


def test_sign_follows_the_order_and_the_sha256() -> None:
    sign = transition_for(Action.SIGN)
    assert refusal(sign, ctx(actor_id=3)) is Refusal.NOT_YOUR_TURN  # nobody signed yet
    assert refusal(sign, ctx(actor_id=3, signed_count=1)) is None
    assert refusal(sign, ctx(signed_count=2)) is Refusal.ALL_SIGNED
    wrong = ctx(presented_pdf_sha256="b" * 64)
    assert refusal(sign, wrong) is Refusal.PDF_DIFFERS
    assert sign.target == Status.SIGNED
    assert sign.target_until_complete == Status.AWAITING_SIGNATURES


def test_allowed_actions_leaves_input_guards_to_the_moment_of_acting() -> None:
    reviewer = ctx(actor_roles=frozenset({Role.REVIEWER}), reason=None)
    assert allowed_actions(Status.IN_REVIEW, reviewer) == [
        Action.APPROVE,
        Action.REQUEST_CHANGES,
    ]
    own = ctx(actor_roles=frozenset({Role.REVIEWER}), version_author_ids=frozenset({1}))
    assert allowed_actions(Status.IN_REVIEW, own) == [Action.REQUEST_CHANGES]
