"""Status changes: the one ``transition()`` use-case over the table in states.py.

It finds the row, checks role and guards, moves the status with a conditional UPDATE and
appends the audit record, all in one transaction. Work that takes long (rendering a PDF)
happens before the transaction opens, so no lock is held while LibreOffice runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from workflow import audit
from workflow.blobs import store_file
from workflow.db import transaction
from workflow.documents import PDF_MEDIA_TYPE, ensure_pdf, load_visible, move_status
from workflow.errors import (
    ConflictingChange,
    GuardRefused,
    InvalidInput,
    NotPermitted,
    TransitionNotAllowed,
)
from workflow.identity import Actor, document_roles
from workflow.models import Approval, Comment, Document, DocumentVersion
from workflow.runtime import Runtime
from workflow.states import (
    Action,
    GuardContext,
    Transition,
    allowed_actions,
    refusal,
    transition_for,
)
from workflow.views import ActionView, DocumentView

#: Actions with their own use-case (they carry more than a reason).
_OWN_USE_CASE = {Action.EDIT: "PATCH the document's fields", Action.SIGN: "use the signing steps"}


def _pdf_of(version: DocumentVersion) -> str | None:
    return next((r.sha256 for r in version.renditions if r.format == "pdf"), None)


def guard_context(
    session: Session,
    actor: Actor,
    doc: Document,
    *,
    reason: str | None = None,
    presented_pdf_sha256: str | None = None,
) -> GuardContext:
    return GuardContext(
        actor_id=actor.user_id,
        actor_roles=document_roles(actor, doc),
        version_author_ids=frozenset(v.created_by_id for v in doc.versions),
        reason=reason,
        signatory_ids=tuple(s.user_id for s in doc.signatories),
        signed_count=sum(1 for s in doc.signatories if s.signed_at is not None),
        expected_pdf_sha256=doc.current_pdf_sha256,
        presented_pdf_sha256=presented_pdf_sha256,
        has_pdf=_pdf_of(doc.versions[-1]) is not None,
    )


def check_transition(
    session: Session,
    actor: Actor,
    doc: Document,
    t: Transition,
    *,
    reason: str | None = None,
    presented_pdf_sha256: str | None = None,
) -> GuardContext:
    """Raise the right error if the actor may not take ``t`` now; return the context."""
    ctx = guard_context(
        session, actor, doc, reason=reason, presented_pdf_sha256=presented_pdf_sha256
    )
    if doc.status not in t.sources:
        allowed = [a.value for a in allowed_actions(doc.status, ctx)]
        raise TransitionNotAllowed(t.action.value, doc.status.value, allowed)
    if not (t.roles & ctx.actor_roles):
        wanted = ", ".join(sorted(t.roles))
        raise NotPermitted(f"action '{t.action.value}' needs one of the roles: {wanted}")
    why = refusal(t, ctx)
    if why is not None:
        raise GuardRefused(why)
    return ctx


def void_approvals(session: Session, doc: Document) -> int:
    result = session.execute(
        update(Approval)
        .where(Approval.document_id == doc.id, Approval.voided_at.is_(None))
        .values(voided_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


def available_actions(rt: Runtime, *, actor: Actor, document_id: int) -> list[ActionView]:
    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, document_id)
        ctx = guard_context(session, actor, doc)
        result = []
        for action in allowed_actions(doc.status, ctx):
            t = transition_for(action)
            result.append(ActionView(action, t.label_pl, t.label_en, t.needs_reason))
        return result


def transition(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    action: Action | str,
    reason: str | None = None,
    seen_lock_version: int | None = None,
) -> DocumentView:
    try:
        action = Action(action)
    except ValueError as exc:
        raise InvalidInput("action", f"unknown action '{action}'") from exc
    if action in _OWN_USE_CASE:
        raise InvalidInput("action", f"'{action.value}' is not taken here: {_OWN_USE_CASE[action]}")
    t = transition_for(action)
    if action in (Action.SUBMIT, Action.REQUEST_SIGNATURES):
        # Check before the slow work below, so a refused request renders nothing.
        with transaction(rt.sessions) as session:
            check_transition(
                session, actor, load_visible(session, actor, document_id), t, reason=reason
            )
    if action == Action.SUBMIT:
        # Reviewers review the PDF, so it exists before the document enters review.
        ensure_pdf(rt, actor=actor, document_id=document_id)
    prepared: tuple[int, bytes] | None = None
    if action == Action.REQUEST_SIGNATURES:
        prepared = _prepare_signing_pdf(rt, actor=actor, document_id=document_id)

    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, document_id)
        seen = doc.lock_version if seen_lock_version is None else seen_lock_version
        if seen != doc.lock_version:
            raise ConflictingChange(f"document {doc.reference}")
        check_transition(session, actor, doc, t, reason=reason)
        was = doc.status
        version = doc.versions[-1]
        payload: dict[str, Any] = {"version": version.number}
        move_status(session, doc, target=t.target, seen=seen)
        if action == Action.APPROVE:
            pdf = _pdf_of(version)
            assert pdf is not None  # noqa: S101  # the has_pdf guard passed above
            session.add(
                Approval(
                    document_id=doc.id, version_id=version.id, reviewer_id=actor.user_id,
                    pdf_sha256=pdf,
                )
            )  # fmt: skip
            payload["pdf_sha256"] = pdf
        elif action in (Action.REQUEST_CHANGES, Action.WITHDRAW) and reason:
            session.add(
                Comment(
                    document_id=doc.id, version_id=version.id, author_id=actor.user_id,
                    body=reason.strip(),
                )
            )  # fmt: skip
        elif action == Action.REQUEST_SIGNATURES and prepared is not None:
            approved = _pdf_of(version)
            based_on, pdf_for_signing = prepared
            if based_on != version.id:
                raise ConflictingChange(f"document {doc.reference}")
            frozen_sha = store_file(session, rt.blobs, pdf_for_signing, PDF_MEDIA_TYPE)
            doc.frozen_version_id = version.id
            doc.frozen_pdf_sha256 = frozen_sha
            doc.current_pdf_sha256 = frozen_sha
            payload.update(approved_pdf_sha256=approved, frozen_pdf_sha256=frozen_sha)
        if reason:
            payload["reason"] = reason.strip()
        payload.update(from_status=was.value, to_status=doc.status.value)
        audit.append(
            session,
            action=f"document.{action.value}",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=doc.id,
            payload=payload,
        )
        session.flush()
        session.refresh(doc)
        return DocumentView.of(doc)


def _prepare_signing_pdf(rt: Runtime, *, actor: Actor, document_id: int) -> tuple[int, bytes]:
    """(version id, the approved PDF with every signature field created) from signing.py."""
    from workflow.signing import prepare_signing_pdf

    return prepare_signing_pdf(rt, actor=actor, document_id=document_id)
