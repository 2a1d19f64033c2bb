"""Who may do what to a document now, and the one guarded way to move its status.

``load_visible`` hides documents from those who may not see them (NotFound: existence does
not leak); ``check_transition`` raises the right error for an action the table does not
allow now; ``move_status`` is the conditional UPDATE that makes racing requests give one
transition and one conflict. The use-cases (documents, review, signing) build on these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_, select, update
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
from workflow.identity.actors import Actor, can_see
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
    Role,
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


#: ``identity.actors.visible_documents_clause`` as one prebuilt condition: the actor's
#: organisations are the parameter ``visible_orgs`` (:func:`visible_params`), so that a
#: statement using it is built once, not per request (building and keying a statement was a
#: good share of a page's CPU under load). tests/web/test_read_shapes.py checks that both
#: find the same documents for every demo person.
VISIBLE: ColumnElement[bool] = or_(
    Document.owner_organisation_id.in_(bindparam("visible_orgs", expanding=True)),
    Document.id.in_(
        select(DocumentParty.document_id).where(
            DocumentParty.organisation_id.in_(bindparam("visible_orgs", expanding=True))
        )
    ),
)


def visible_params(actor: Actor) -> dict[str, Any]:
    """The parameters of :data:`VISIBLE` for the actor."""
    return {"visible_orgs": sorted(actor.member_of)}


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


def document_roles_of(
    actor: Actor, owner_organisation_id: int, signatory_ids: Iterable[int]
) -> frozenset[Role]:
    """The roles the actor holds for a document of this owning office and these designated
    signatories (``identity.actors.document_roles`` from the document's columns):
    authoring, reviewing and archiving belong to the owning office (or one above it),
    signing to the designated signatories alone."""
    roles = set(actor.roles_in(owner_organisation_id)) - {Role.SIGNATORY}
    if actor.user_id in set(signatory_ids):
        roles.add(Role.SIGNATORY)
    return frozenset(roles)


def guard_context_of(
    actor: Actor,
    *,
    owner_organisation_id: int,
    version_author_ids: frozenset[int],
    signatories: Sequence[tuple[int, bool]],
    current_pdf_sha256: str | None,
    has_pdf: bool,
    reason: str | None = None,
    presented_pdf_sha256: str | None = None,
) -> GuardContext:
    """What the guards look at, from a document's columns: ``signatories`` are (user id,
    signed) in signing order; ``has_pdf``: the newest version's PDF is rendered. The one
    way both the pages (which offer the actions) and the use-cases (which take them) make
    it, so that a page never offers what the server would refuse."""
    return GuardContext(
        actor_id=actor.user_id,
        actor_roles=document_roles_of(actor, owner_organisation_id, (u for u, _ in signatories)),
        version_author_ids=version_author_ids,
        reason=reason,
        signatory_ids=tuple(u for u, _ in signatories),
        signed_count=sum(1 for _, signed in signatories if signed),
        expected_pdf_sha256=current_pdf_sha256,
        presented_pdf_sha256=presented_pdf_sha256,
        has_pdf=has_pdf,
    )


def guard_context(
    session: Session,
    actor: Actor,
    doc: Document,
    *,
    reason: str | None = None,
    presented_pdf_sha256: str | None = None,
) -> GuardContext:
    return guard_context_of(
        actor,
        owner_organisation_id=doc.owner_organisation_id,
        version_author_ids=frozenset(v.created_by_id for v in doc.versions),
        signatories=[(s.user_id, s.signed_at is not None) for s in doc.signatories],
        current_pdf_sha256=doc.current_pdf_sha256,
        has_pdf=doc.versions[-1].pdf_sha256 is not None,
        reason=reason,
        presented_pdf_sha256=presented_pdf_sha256,
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
