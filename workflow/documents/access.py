"""Who may do what to a document now, and the one guarded way to move its status.

``load_visible`` hides documents from those who may not see them (NotFound: existence does
not leak); ``check_transition`` raises the right error for an action the table does not
allow now; ``move_status`` is the conditional UPDATE that makes racing requests give one
transition and one conflict. The use-cases (documents, review, signing) build on these.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from workflow.errors import (
    ConflictingChange,
    ErrorCode,
    GuardRefused,
    NotFound,
    NotPermitted,
    TransitionNotAllowed,
)
from workflow.identity.actors import Actor, can_see, document_roles
from workflow.models import (
    Approval,
    Document,
    DocumentParty,
    DocumentSignatory,
    DocumentVersion,
    TemplateVersion,
)
from workflow.states import (
    GuardContext,
    Status,
    Transition,
    allowed_actions,
    missing_role,
    refusal,
)

#: What a DocumentView reads, loaded in a few batched queries instead of one per relation
#: and row (a list of 200 documents is a handful of queries, not hundreds).
DOCUMENT_LOAD: tuple[ORMOption, ...] = (
    joinedload(Document.owner_organisation),
    joinedload(Document.template_version).joinedload(TemplateVersion.template),
    selectinload(Document.parties).joinedload(DocumentParty.organisation),
    selectinload(Document.parties).joinedload(DocumentParty.representative),
    selectinload(Document.signatories).joinedload(DocumentSignatory.user),
    selectinload(Document.signatories).joinedload(DocumentSignatory.organisation),
    selectinload(Document.versions).selectinload(DocumentVersion.renditions),
)


def load_visible(session: Session, actor: Actor, document_id: int) -> Document:
    """The document if the actor may see it; NotFound otherwise (existence does not leak)."""
    doc = session.get(Document, document_id, options=DOCUMENT_LOAD)
    if doc is None or not can_see(actor, doc):
        raise NotFound(ErrorCode.DOCUMENT_NOT_FOUND, document_id=document_id)
    return doc


def move_status(session: Session, doc: Document, *, target: Status, seen: int) -> None:
    """The conditional UPDATE behind every status change: of two racing requests that saw
    the same lock version, exactly one moves the document and the other gets a conflict."""
    result = session.execute(
        update(Document)
        .where(
            Document.id == doc.id,
            Document.status == doc.status,
            Document.lock_version == seen,
        )
        .values(status=target, lock_version=seen + 1, updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=doc.reference)
    session.refresh(doc)


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
        has_pdf=doc.versions[-1].pdf_sha256 is not None,
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
        allowed: list[str] = list(allowed_actions(doc.status, ctx))
        raise TransitionNotAllowed(t.action, doc.status, allowed)
    lacking = missing_role(t, ctx)
    if lacking is not None:
        raise NotPermitted(lacking, action=t.action, roles=sorted(t.roles))
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
