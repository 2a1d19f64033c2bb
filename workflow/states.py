"""Statuses, roles and the transition table, with their guards.

Pure: no database, no web. ``review.transitions.transition()`` looks an action up here, builds a
``GuardContext`` from the database, asks ``refusal()`` and only then moves the status.
Pages and the API list the actions a user may take from ``allowed_actions()``, and tests
loop over ``TRANSITIONS``: the table is the single source of truth.

Only stable identifiers live here (statuses, actions, roles, refusal codes); their labels
and sentences, in Polish and English, are in the catalogue of ``workflow.i18n``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    AWAITING_SIGNATURES = "awaiting_signatures"
    SIGNED = "signed"
    ARCHIVED = "archived"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    AUTHOR = "author"
    REVIEWER = "reviewer"
    SIGNATORY = "signatory"
    ARCHIVIST = "archivist"
    ADMIN = "admin"


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REQUEST_SIGNATURES = "request_signatures"
    SIGN = "sign"
    ARCHIVE = "archive"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class GuardContext:
    """What the guards may look at, gathered by the use-case from the database."""

    actor_id: int
    actor_roles: frozenset[Role]
    version_author_ids: frozenset[int]
    """Everyone who wrote a version of the document: none of them may approve it."""
    reason: str | None = None
    signatory_ids: tuple[int, ...] = ()
    """Designated signatories in signing order."""
    signed_count: int = 0
    expected_pdf_sha256: str | None = None
    """The PDF the next signature must be made on: the one frozen by request_signatures,
    plus the signatures made so far (each is an incremental update of it)."""
    presented_pdf_sha256: str | None = None
    """The sha256 of the PDF the signatory says they signed."""
    has_pdf: bool = False


class Refusal(StrEnum):
    """Why the table refuses an action: a stable code; ``workflow.i18n`` has its sentence."""

    ROLE_REQUIRED = "role_required"
    """The actor has none of the roles of the row (params: ``action``, ``roles``)."""
    REVIEWER_WROTE_VERSION = "reviewer_wrote_version"
    REASON_REQUIRED = "reason_required"
    NO_SIGNATORIES = "no_signatories"
    NO_RENDERED_PDF = "no_rendered_pdf"
    ALL_SIGNED = "all_signed"
    NOT_YOUR_TURN = "not_your_turn"
    NO_FROZEN_PDF = "no_frozen_pdf"
    PDF_DIFFERS = "pdf_differs"


Guard = Callable[[GuardContext], Refusal | None]


def _not_own_draft(ctx: GuardContext) -> Refusal | None:
    if ctx.actor_id in ctx.version_author_ids:
        return Refusal.REVIEWER_WROTE_VERSION
    return None


def _reason_given(ctx: GuardContext) -> Refusal | None:
    if not (ctx.reason and ctx.reason.strip()):
        return Refusal.REASON_REQUIRED
    return None


def _has_signatories(ctx: GuardContext) -> Refusal | None:
    if not ctx.signatory_ids:
        return Refusal.NO_SIGNATORIES
    return None


def _has_pdf(ctx: GuardContext) -> Refusal | None:
    if not ctx.has_pdf:
        return Refusal.NO_RENDERED_PDF
    return None


def _next_signatory(ctx: GuardContext) -> Refusal | None:
    if ctx.signed_count >= len(ctx.signatory_ids):
        return Refusal.ALL_SIGNED
    if ctx.signatory_ids[ctx.signed_count] != ctx.actor_id:
        return Refusal.NOT_YOUR_TURN  # signatories sign in the set order
    return None


def _same_pdf(ctx: GuardContext) -> Refusal | None:
    if ctx.expected_pdf_sha256 is None:
        return Refusal.NO_FROZEN_PDF
    if ctx.presented_pdf_sha256 != ctx.expected_pdf_sha256:
        return Refusal.PDF_DIFFERS  # not the PDF awaiting signatures (sha256 differs)
    return None


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[Status]
    target: Status
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    target_until_complete: Status | None = None
    """For ``sign``: the status kept until the last designated signatory has signed."""
    needs_reason: bool = False


_S = Status
_R = Role

TRANSITIONS: tuple[Transition, ...] = (
    # Any edit makes a new version; after approval it returns to draft and voids approvals.
    Transition(
        Action.EDIT,
        frozenset({_S.DRAFT, _S.CHANGES_REQUESTED, _S.APPROVED}),
        _S.DRAFT,
        frozenset({_R.AUTHOR}),
    ),
    Transition(
        Action.SUBMIT,
        frozenset({_S.DRAFT, _S.CHANGES_REQUESTED}),
        _S.IN_REVIEW,
        frozenset({_R.AUTHOR}),
        guards=(_has_signatories,),
    ),
    Transition(
        Action.APPROVE,
        frozenset({_S.IN_REVIEW}),
        _S.APPROVED,
        frozenset({_R.REVIEWER}),
        guards=(_not_own_draft, _has_pdf),
    ),
    Transition(
        Action.REQUEST_CHANGES,
        frozenset({_S.IN_REVIEW}),
        _S.CHANGES_REQUESTED,
        frozenset({_R.REVIEWER}),
        guards=(_reason_given,),
        needs_reason=True,
    ),
    Transition(
        Action.REQUEST_SIGNATURES,
        frozenset({_S.APPROVED}),
        _S.AWAITING_SIGNATURES,
        frozenset({_R.AUTHOR, _R.REVIEWER}),
        guards=(_has_signatories, _has_pdf),
    ),
    Transition(
        Action.SIGN,
        frozenset({_S.AWAITING_SIGNATURES}),
        _S.SIGNED,
        frozenset({_R.SIGNATORY}),
        guards=(_next_signatory, _same_pdf),
        target_until_complete=_S.AWAITING_SIGNATURES,
    ),
    Transition(
        Action.ARCHIVE,
        frozenset({_S.SIGNED}),
        _S.ARCHIVED,
        frozenset({_R.ARCHIVIST}),
    ),
    Transition(
        Action.WITHDRAW,
        frozenset({_S.DRAFT, _S.IN_REVIEW, _S.CHANGES_REQUESTED}),
        _S.WITHDRAWN,
        frozenset({_R.AUTHOR, _R.ADMIN}),
        needs_reason=False,
    ),
)

_BY_ACTION = {t.action: t for t in TRANSITIONS}


class Effect(StrEnum):
    """Work a change of state causes outside its transaction. The use-case writes it to the
    outbox with the change and its audit record; a job does it after commit, at least once
    (``workflow.outbox``, ``workflow.jobs.handlers``)."""

    RENDER_PDF = "render_pdf"
    """Render the new version's PDF/A."""
    NOTIFY_REVIEWERS = "notify_reviewers"
    """A document awaits review: tell the reviewers of its office."""
    NOTIFY_AUTHORS = "notify_authors"
    """The review ended (changes requested, approved): tell the authors."""
    NOTIFY_NEXT_SIGNATORY = "notify_next_signatory"
    """It is the next designated signatory's turn to sign."""
    NOTIFY_ALL_SIGNED = "notify_all_signed"
    """The last signatory has signed: tell the authors and every signatory."""
    ANCHOR_AUDIT = "anchor_audit"
    """A document was archived: timestamp the audit chain's head with the TSA
    (``workflow.archive.anchors``), so the record of its archiving is anchored at once."""
    INDEX_DOCUMENT = "index_document"
    """The document's text, metadata or status changed: rebuild its search index entry
    (``workflow.search.index``); every action and a new document cause it."""


#: The effects of each action, next to the table. ``sign`` names those of a signature that
#: leaves others to sign; ``EFFECTS_WHEN_COMPLETE`` those of the one reaching the target.
EFFECTS: dict[Action, tuple[Effect, ...]] = {
    Action.EDIT: (Effect.RENDER_PDF, Effect.INDEX_DOCUMENT),
    Action.SUBMIT: (Effect.NOTIFY_REVIEWERS, Effect.INDEX_DOCUMENT),
    Action.APPROVE: (Effect.NOTIFY_AUTHORS, Effect.INDEX_DOCUMENT),
    Action.REQUEST_CHANGES: (Effect.NOTIFY_AUTHORS, Effect.INDEX_DOCUMENT),
    Action.REQUEST_SIGNATURES: (Effect.NOTIFY_NEXT_SIGNATORY, Effect.INDEX_DOCUMENT),
    Action.SIGN: (Effect.NOTIFY_NEXT_SIGNATORY, Effect.INDEX_DOCUMENT),
    Action.ARCHIVE: (Effect.ANCHOR_AUDIT, Effect.INDEX_DOCUMENT),
    Action.WITHDRAW: (Effect.INDEX_DOCUMENT,),
}
EFFECTS_WHEN_COMPLETE: dict[Action, tuple[Effect, ...]] = {
    Action.SIGN: (Effect.NOTIFY_ALL_SIGNED, Effect.INDEX_DOCUMENT),
}
#: A new document (not an action of the table: it has no status before).
CREATION_EFFECTS: tuple[Effect, ...] = (Effect.RENDER_PDF, Effect.INDEX_DOCUMENT)


def effects_of(action: Action, to_status: Status) -> tuple[Effect, ...]:
    """What ``action`` causes when it leaves the document in ``to_status``."""
    t = _BY_ACTION[action]
    if t.target_until_complete is not None and to_status == t.target:
        return EFFECTS_WHEN_COMPLETE[action]
    return EFFECTS[action]


def transition_for(action: Action) -> Transition:
    return _BY_ACTION[action]


def actions_from(status: Status) -> list[Action]:
    """Every action the table offers in this status, whoever asks."""
    return [t.action for t in TRANSITIONS if status in t.sources]


def missing_role(transition: Transition, ctx: GuardContext) -> Refusal | None:
    """``ROLE_REQUIRED`` if the actor has none of the transition's roles, else None."""
    if transition.roles & ctx.actor_roles:
        return None
    return Refusal.ROLE_REQUIRED


def refusal(transition: Transition, ctx: GuardContext) -> Refusal | None:
    """The first refusal of this transition for the actor (role, then guards), or None."""
    lacking = missing_role(transition, ctx)
    if lacking is not None:
        return lacking
    for guard in transition.guards:
        reason = guard(ctx)
        if reason is not None:
            return reason
    return None


def allowed_actions(status: Status, ctx: GuardContext) -> list[Action]:
    """The actions this actor could take now. Guards that depend on input the actor has not
    given yet (a reason, the sha256 they will sign) are left to the moment they act."""
    deferred: set[Guard] = {_reason_given, _same_pdf}
    result = []
    for t in TRANSITIONS:
        if status not in t.sources or not (t.roles & ctx.actor_roles):
            continue
        if all(g in deferred or g(ctx) is None for g in t.guards):
            result.append(t.action)
    return result
