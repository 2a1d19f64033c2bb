"""Drafting: create a document from a template, and edit it (always a new version).

Each use-case takes the ``Runtime`` and keyword arguments, checks who is asking, and owns
its transaction: it commits with its audit record or changes nothing. Status changes live in
``review.transitions``; signing in ``signing.service``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workflow import audit, outbox
from workflow.db import transaction
from workflow.documents.access import (
    check_transition,
    load_visible,
    move_status,
    void_approvals,
)
from workflow.documents.context import render_context
from workflow.errors import ConflictingChange, ErrorCode, InvalidInput, NotPermitted
from workflow.identity.actors import Actor
from workflow.models import (
    Document,
    DocumentKind,
    DocumentParty,
    DocumentSignatory,
    DocumentVersion,
    Membership,
    Organisation,
    TemplateVersion,
    User,
)
from workflow.rendering.engine import render_docx
from workflow.rendering.fields import FieldSchema
from workflow.runtime import Runtime
from workflow.states import CREATION_EFFECTS, Action, Role, Status, effects_of, transition_for
from workflow.storage.blobs import store_file
from workflow.template_library.store import DOCX_MEDIA_TYPE, latest_version
from workflow.views import DocumentView

REFERENCE_PREFIX = {DocumentKind.LETTER_OF_INTENT: "LI", DocumentKind.E_STRATEGY: "ES"}


@dataclass(frozen=True)
class PartyInput:
    organisation_id: int
    representative_id: int | None = None


@dataclass(frozen=True)
class SignatoryInput:
    user_id: int
    organisation_id: int | None = None
    """Defaults to the party organisation in which the person holds the signatory role."""
    function: str | None = None
    """Defaults to the person's function title."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class _Draft:
    """What one render was made from, read in a short read transaction.

    The render runs with no transaction open; the write transaction then builds the same
    rows again and stores the DOCX only if they give the same context (nothing it shows
    changed meanwhile) and the document is still as seen (``lock_version``).
    """

    template: bytes
    context: dict[str, object]
    values: dict[str, Any]
    """The clean field values (JSON) the new version stores."""
    number: int
    """Number of the new version."""
    created_at: datetime
    lock_version: int
    """The lock version seen (edits); 0 for a new document."""
    document_id: int
    """The document edited, or the id reserved for a new one."""


class _Moved(Exception):
    """What a render was made from changed before it could be stored: render again."""


_ATTEMPTS = 3


def _render(rt: Runtime, draft: _Draft) -> bytes:
    """Render with no transaction open: a slow template holds up no one else's writes."""
    return render_docx(draft.template, draft.context)


def _store_version(
    rt: Runtime,
    session: Session,
    doc: Document,
    draft: _Draft,
    docx: bytes,
    *,
    actor: Actor,
    note: str | None,
) -> DocumentVersion:
    version = DocumentVersion(
        document_id=doc.id,
        number=draft.number,
        field_values=draft.values,
        note=note,
        created_by_id=actor.user_id,
        created_at=draft.created_at,
    )
    if _version_context(doc, version) != draft.context:
        raise _Moved
    # The DOCX is stored before the row is added: a version never exists without it.
    version.docx_sha256 = store_file(session, rt.blobs, docx, DOCX_MEDIA_TYPE)
    session.add(version)
    session.flush()
    session.refresh(doc)
    return version


def _version_context(doc: Document, version: DocumentVersion) -> dict[str, object]:
    schema = FieldSchema.parse(
        doc.template_version.field_schema, source=doc.template_version.template.name
    )
    return render_context(doc, version, schema.validate(version.field_values))


def _next_version_number(session: Session, doc: Document) -> int:
    latest = session.scalar(
        select(func.max(DocumentVersion.number)).where(DocumentVersion.document_id == doc.id)
    )
    return (latest or 0) + 1


def _validate_parties(
    session: Session, parties: Sequence[PartyInput]
) -> list[tuple[Organisation, User | None]]:
    if not parties:
        raise InvalidInput("parties", ErrorCode.PARTY_REQUIRED)
    seen: set[int] = set()
    result = []
    for i, p in enumerate(parties):
        org = session.get(Organisation, p.organisation_id)
        if org is None:
            raise InvalidInput(f"parties[{i}].organisation_id", ErrorCode.ORGANISATION_NOT_FOUND)
        if org.id in seen:
            raise InvalidInput(f"parties[{i}].organisation_id", ErrorCode.LISTED_TWICE)
        seen.add(org.id)
        rep = None
        if p.representative_id is not None:
            rep = session.get(User, p.representative_id)
            member = session.scalar(
                select(Membership.id).where(
                    Membership.user_id == p.representative_id,
                    Membership.organisation_id == org.id,
                )
            )
            if rep is None or not rep.is_active or member is None:
                raise InvalidInput(
                    f"parties[{i}].representative_id",
                    ErrorCode.NOT_A_PERSON_OF,
                    organisation=org.name,
                )
        result.append((org, rep))
    return result


def _validate_signatories(
    session: Session, signatories: Sequence[SignatoryInput], party_ids: set[int]
) -> list[tuple[User, int, str]]:
    result = []
    seen: set[int] = set()
    for i, s in enumerate(signatories):
        user = session.get(User, s.user_id)
        if user is None or not user.is_active:
            raise InvalidInput(f"signatories[{i}].user_id", ErrorCode.PERSON_NOT_FOUND)
        if user.id in seen:
            raise InvalidInput(f"signatories[{i}].user_id", ErrorCode.LISTED_TWICE)
        seen.add(user.id)
        signing_orgs = (
            set(
                session.scalars(
                    select(Membership.organisation_id).where(
                        Membership.user_id == user.id, Membership.role == Role.SIGNATORY
                    )
                )
            )
            & party_ids
        )
        org_id = s.organisation_id
        if org_id is None:
            if len(signing_orgs) != 1:
                raise InvalidInput(
                    f"signatories[{i}].organisation_id",
                    ErrorCode.SIGNATORY_ORGANISATION_REQUIRED,
                )
            org_id = signing_orgs.pop()
        elif org_id not in signing_orgs:
            raise InvalidInput(
                f"signatories[{i}].user_id",
                ErrorCode.SIGNATORY_NOT_OF_PARTY,
                person=user.full_name,
                organisation_id=org_id,
            )
        function = (s.function or user.function_title or "").strip()
        if not function:
            raise InvalidInput(f"signatories[{i}].function", ErrorCode.SIGNATORY_FUNCTION_REQUIRED)
        result.append((user, org_id, function))
    return result


def create_document(
    rt: Runtime,
    *,
    actor: Actor,
    template_name: str,
    title: str,
    values: Mapping[str, Any],
    parties: Sequence[PartyInput],
    signatories: Sequence[SignatoryInput],
    owner_organisation_id: int | None = None,
) -> DocumentView:
    title = title.strip()
    if not title or len(title) > 300:
        raise InvalidInput("title", ErrorCode.TEXT_REQUIRED, max_length=300)
    authoring = [org for org, role in actor.roles_by_org if role == Role.AUTHOR]
    if not authoring:
        raise NotPermitted(ErrorCode.AUTHOR_ROLE_REQUIRED)
    owner_id = owner_organisation_id if owner_organisation_id is not None else authoring[0]
    if owner_id not in authoring:
        raise NotPermitted(ErrorCode.NOT_AUTHOR_IN_ORGANISATION)
    request = _NewDocument(actor, template_name, title, values, parties, signatories, owner_id)
    for _attempt in range(_ATTEMPTS):
        with transaction(rt.read_sessions) as session:
            tv = latest_version(session, template_name)
            _, draft = _draft_new(rt, session, request, tv, _reserve_document_id(session))
        docx = _render(rt, draft)
        try:
            return _store_new(rt, request, draft, docx)
        except _Moved:
            continue  # another document took the reserved number first
    raise ConflictingChange(ErrorCode.NUMBERING_CHANGED)


@dataclass(frozen=True)
class _NewDocument:
    actor: Actor
    template_name: str
    title: str
    values: Mapping[str, Any]
    parties: Sequence[PartyInput]
    signatories: Sequence[SignatoryInput]
    owner_id: int


def _reserve_document_id(session: Session) -> int:
    """The id the new document will have (its reference shows it, so the render needs it).

    PostgreSQL hands it out once from the table's sequence; SQLite's next rowid is checked
    again in the write transaction, where another writer may have taken it."""
    if session.get_bind().dialect.name == "postgresql":
        reserved = session.scalar(text("SELECT nextval(pg_get_serial_sequence('documents', 'id'))"))
        return int(reserved)
    return (session.scalar(select(func.max(Document.id))) or 0) + 1


def _draft_new(
    rt: Runtime, session: Session, request: _NewDocument, tv: TemplateVersion, doc_id: int
) -> tuple[Document, _Draft]:
    """The document's rows, not yet added to ``session``, and what its render needs."""
    schema = FieldSchema.parse(tv.field_schema, source=request.template_name)
    clean = _jsonable(schema.validate(request.values))
    orgs = _validate_parties(session, request.parties)
    signers = _validate_signatories(session, request.signatories, {o.id for o, _ in orgs})
    owner = session.get(Organisation, request.owner_id)
    if owner is None:
        raise InvalidInput("owner_organisation_id", ErrorCode.ORGANISATION_NOT_FOUND)
    created_at = datetime.now(UTC)
    by_id = {org.id: org for org, _ in orgs}
    doc = Document(
        id=doc_id,
        reference=f"{REFERENCE_PREFIX[tv.template.kind]}/{created_at.year}/{doc_id:04d}",
        kind=tv.template.kind,
        title=request.title,
        template_version_id=tv.id,
        template_version=tv,
        owner_organisation_id=owner.id,
        owner_organisation=owner,
        status=Status.DRAFT,
        lock_version=1,
        created_by_id=request.actor.user_id,
    )
    doc.parties = [
        DocumentParty(organisation_id=org.id, organisation=org, position=i,
                      representative_id=rep.id if rep else None, representative=rep)
        for i, (org, rep) in enumerate(orgs, start=1)
    ]  # fmt: skip
    doc.signatories = [
        DocumentSignatory(position=i, user_id=user.id, user=user, organisation_id=org_id,
                          organisation=by_id[org_id], function=function)
        for i, (user, org_id, function) in enumerate(signers, start=1)
    ]  # fmt: skip
    version = DocumentVersion(number=1, field_values=clean, created_at=created_at)
    template = rt.blobs.get(tv.docx_sha256)
    draft = _Draft(template, _version_context(doc, version), clean, 1, created_at, 0, doc_id)
    return doc, draft


def _store_new(rt: Runtime, request: _NewDocument, draft: _Draft, docx: bytes) -> DocumentView:
    actor = request.actor
    with transaction(rt.sessions) as session:
        if session.get(Document, draft.document_id) is not None:
            raise _Moved
        tv = latest_version(session, request.template_name)
        doc, again = _draft_new(rt, session, request, tv, draft.document_id)
        if again.context != draft.context:
            raise _Moved  # a party, signatory or the template changed during the render
        session.add(doc)
        session.flush()
        # A version's note is its author's words (shown as is on the pages): none yet.
        version = _store_version(rt, session, doc, draft, docx, actor=actor, note=None)
        audit.append(
            session,
            action="document.created",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=doc.id,
            payload={
                "reference": doc.reference,
                "template": request.template_name,
                "template_version": tv.number,
                "version": version.number,
                "docx_sha256": version.docx_sha256,
                "parties": [p.organisation_id for p in doc.parties],
                "signatories": [s.user_id for s in doc.signatories],
            },
        )
        outbox.add(
            session, CREATION_EFFECTS, document_id=doc.id, version_id=version.id,
            payload={"event": "created", "version": version.number},
        )  # fmt: skip
        session.refresh(doc)
        return DocumentView.of(doc)


def edit_document(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    values: Mapping[str, Any],
    seen_lock_version: int | None = None,
    note: str | None = None,
) -> DocumentView:
    """Change field values: always a new version. After approval the document returns to
    draft and its approvals are void.

    The render runs between a read and the write transaction; if the document moved in
    between, a caller who named ``seen_lock_version`` gets ``ConflictingChange``, others
    get their values merged into the newer version and rendered again."""
    for _attempt in range(_ATTEMPTS):
        with transaction(rt.read_sessions) as session:
            doc = load_visible(session, actor, document_id)
            draft = _draft_edit(rt, session, actor, doc, values, seen_lock_version)
        docx = _render(rt, draft)
        try:
            return _store_edit(rt, actor, draft, docx, values=values, note=note)
        except _Moved:
            if seen_lock_version is not None:
                raise ConflictingChange(
                    ErrorCode.DOCUMENT_CHANGED, reference=doc.reference
                ) from None
    raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=doc.reference)


def _draft_edit(
    rt: Runtime,
    session: Session,
    actor: Actor,
    doc: Document,
    values: Mapping[str, Any],
    seen_lock_version: int | None,
) -> _Draft:
    seen = doc.lock_version if seen_lock_version is None else seen_lock_version
    if seen != doc.lock_version:
        raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=doc.reference)
    check_transition(session, actor, doc, transition_for(Action.EDIT))
    merged = {**doc.versions[-1].field_values, **values}
    schema = FieldSchema.parse(doc.template_version.field_schema, source=doc.reference or "")
    clean = _jsonable(schema.validate(merged))
    number = _next_version_number(session, doc)
    created_at = datetime.now(UTC)
    version = DocumentVersion(number=number, field_values=clean, created_at=created_at)
    context = _version_context(doc, version)
    template = rt.blobs.get(doc.template_version.docx_sha256)
    return _Draft(template, context, clean, number, created_at, seen, doc.id)


def _store_edit(
    rt: Runtime,
    actor: Actor,
    draft: _Draft,
    docx: bytes,
    *,
    values: Mapping[str, Any],
    note: str | None,
) -> DocumentView:
    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, draft.document_id)
        if doc.lock_version != draft.lock_version:
            raise _Moved
        t = transition_for(Action.EDIT)
        check_transition(session, actor, doc, t)
        previous = doc.versions[-1]
        was = doc.status
        move_status(session, doc, target=t.target, seen=draft.lock_version)
        voided = void_approvals(session, doc) if was == Status.APPROVED else 0
        version = _store_version(rt, session, doc, draft, docx, actor=actor, note=note)
        clean = draft.values
        changed = sorted(k for k in clean if clean.get(k) != previous.field_values.get(k))
        audit.append(
            session,
            action="document.edited",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=doc.id,
            payload={
                "version": version.number,
                "docx_sha256": version.docx_sha256,
                "changed_fields": changed,
                "from_status": was.value,
                "to_status": doc.status.value,
                "approvals_voided": voided,
            },
        )
        outbox.add(
            session, effects_of(Action.EDIT, doc.status), document_id=doc.id,
            version_id=version.id, payload={"event": "edit", "version": version.number},
        )  # fmt: skip
        session.refresh(doc)
        return DocumentView.of(doc)
