"""Status changes: the one ``transition()`` use-case over the table in states.py.

It finds the row, checks role and guards, moves the status with a conditional UPDATE,
appends the audit record and writes the effects the table declares for the action to the
outbox (``states.EFFECTS``), all in one transaction. Work that takes long (rendering a PDF)
happens before the transaction opens, so no lock is held while LibreOffice runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from workflow import audit, outbox
from workflow.db import transaction
from workflow.documents.access import (
    check_transition,
    guard_context,
    load_visible,
    move_status,
)
from workflow.documents.rendition import PDF_MEDIA_TYPE, ensure_pdf
from workflow.errors import (
    ConflictingChange,
    ErrorCode,
    InvalidInput,
)
from workflow.i18n import label
from workflow.identity.actors import Actor
from workflow.models import Approval, Comment, Document, DocumentVersion
from workflow.runtime import Runtime
from workflow.signing.service import prepare_signing_pdf
from workflow.states import (
    Action,
    Transition,
    allowed_actions,
    effects_of,
    transition_for,
)
from workflow.storage.blobs import store_file
from workflow.views import ActionView, DocumentView

SideRows = Callable[[Session, Document], dict[str, Any]]
"""Rows a layer above writes with the change, in its transaction (the archive record of
``archive``); returns what the audit record adds about them."""

#: Actions with their own use-case (they carry more than a reason).
_OWN_USE_CASE = {Action.EDIT: ErrorCode.EDIT_BY_PATCH, Action.SIGN: ErrorCode.SIGN_BY_SIGNING_STEPS}


def available_actions(rt: Runtime, *, actor: Actor, document_id: int) -> list[ActionView]:
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        ctx = guard_context(session, actor, doc)
        result = []
        for action in allowed_actions(doc.status, ctx):
            t = transition_for(action)
            result.append(
                ActionView(action, label(action, "pl"), label(action, "en"), t.needs_reason)
            )
        return result


def transition(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    action: Action | str,
    reason: str | None = None,
    seen_lock_version: int | None = None,
    within: SideRows | None = None,
) -> DocumentView:
    action = _parse_action(action)
    t = transition_for(action)
    seen_lock_version, prepared = _before_transaction(
        rt, actor=actor, document_id=document_id, t=t, reason=reason, seen=seen_lock_version
    )
    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, document_id)
        seen = doc.lock_version if seen_lock_version is None else seen_lock_version
        if seen != doc.lock_version:
            raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=doc.reference)
        check_transition(session, actor, doc, t, reason=reason)
        if action == Action.ARCHIVE and within is None:
            # An archived document without its write-once archive record would be a record
            # that was never kept: archiving goes through workflow.archive, which writes
            # the record in this transaction (``within``).
            raise InvalidInput("action", ErrorCode.ARCHIVE_BY_ARCHIVE_STEP, action=action)
        was = doc.status
        version = doc.versions[-1]
        move_status(session, doc, target=t.target, seen=seen)
        payload: dict[str, Any] = {"version": version.number}
        payload.update(
            _record_side_rows(session, rt, actor, doc, version, action, reason, prepared)
        )
        if within is not None:
            payload.update(within(session, doc))
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
        outbox.add(
            session, effects_of(action, doc.status), document_id=doc.id,
            version_id=version.id, payload={"event": action.value, **payload},
        )  # fmt: skip
        session.flush()
        session.refresh(doc)
        return DocumentView.of(doc)


def _parse_action(action: Action | str) -> Action:
    try:
        action = Action(action)
    except ValueError as exc:
        raise InvalidInput("action", ErrorCode.NOT_ONE_OF, expected=", ".join(Action)) from exc
    if action in _OWN_USE_CASE:
        raise InvalidInput("action", _OWN_USE_CASE[action], action=action)
    return action


def _before_transaction(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    t: Transition,
    reason: str | None,
    seen: int | None,
) -> tuple[int | None, tuple[int, bytes] | None]:
    """The slow work of an action, done before the write transaction opens: the PDF a
    review needs, the PDF with its signature fields. Returns the lock version to hold the
    write to, and the prepared signing PDF (``request_signatures`` only)."""
    action = t.action
    if action not in (Action.SUBMIT, Action.REQUEST_SIGNATURES):
        return seen, None
    # Check before the slow work below, so a refused request renders nothing; and pin the
    # version checked, so an edit landing meanwhile is a conflict, not a version that goes
    # to review unseen.
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        check_transition(session, actor, doc, t, reason=reason)
        if seen is None:
            seen = doc.lock_version
    if action == Action.SUBMIT:
        # Reviewers review the PDF, so it exists before the document enters review: the
        # render job queued by the last edit has usually made it; if not, render it here.
        ensure_pdf(rt, actor=actor, document_id=document_id)
        return seen, None
    return seen, prepare_signing_pdf(rt, actor=actor, document_id=document_id)


def _record_side_rows(
    session: Session,
    rt: Runtime,
    actor: Actor,
    doc: Document,
    version: DocumentVersion,
    action: Action,
    reason: str | None,
    prepared: tuple[int, bytes] | None,
) -> dict[str, Any]:
    """The rows an action writes beside the status (an approval, the reason as a comment,
    the frozen PDF); returns what the audit record adds about them."""
    if action == Action.APPROVE:
        pdf = version.pdf_sha256
        assert pdf is not None  # noqa: S101  # the has_pdf guard passed
        session.add(
            Approval(
                document_id=doc.id, version_id=version.id, reviewer_id=actor.user_id,
                pdf_sha256=pdf,
            )
        )  # fmt: skip
        return {"pdf_sha256": pdf}
    if action in (Action.REQUEST_CHANGES, Action.WITHDRAW) and reason:
        session.add(
            Comment(
                document_id=doc.id, version_id=version.id, author_id=actor.user_id,
                body=reason.strip(),
            )
        )  # fmt: skip
        return {}
    if action == Action.REQUEST_SIGNATURES and prepared is not None:
        based_on, pdf_for_signing = prepared
        if based_on != version.id:
            raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=doc.reference)
        frozen_sha = store_file(session, rt.blobs, pdf_for_signing, PDF_MEDIA_TYPE)
        doc.frozen_version_id = version.id
        doc.frozen_pdf_sha256 = frozen_sha
        doc.current_pdf_sha256 = frozen_sha
        return {"approved_pdf_sha256": version.pdf_sha256, "frozen_pdf_sha256": frozen_sha}
    return {}
