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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.db import transaction
from workflow.documents.access import (
    check_transition,
    load_visible,
    move_status,
    void_approvals,
)
from workflow.documents.context import render_context
from workflow.errors import ConflictingChange, InvalidInput, NotPermitted
from workflow.identity.actors import Actor
from workflow.models import (
    Document,
    DocumentKind,
    DocumentParty,
    DocumentSignatory,
    DocumentVersion,
    Membership,
    Organisation,
    User,
)
from workflow.rendering.engine import render_docx
from workflow.rendering.fields import FieldSchema
from workflow.runtime import Runtime
from workflow.states import Action, Role, Status, transition_for
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


def _render_version_docx(
    rt: Runtime, session: Session, doc: Document, version: DocumentVersion
) -> str:
    schema = FieldSchema.parse(
        doc.template_version.field_schema, source=doc.template_version.template.name
    )
    values = schema.validate(version.field_values)
    template = rt.blobs.get(doc.template_version.docx_sha256)
    docx = render_docx(template, render_context(doc, version, values))
    return store_file(session, rt.blobs, docx, DOCX_MEDIA_TYPE)


def _add_version(
    rt: Runtime,
    session: Session,
    doc: Document,
    *,
    actor: Actor,
    values: dict[str, Any],
    note: str | None,
) -> DocumentVersion:
    number = (
        session.scalar(
            select(func.max(DocumentVersion.number)).where(DocumentVersion.document_id == doc.id)
        )
        or 0
    ) + 1
    version = DocumentVersion(
        document_id=doc.id,
        number=number,
        field_values=values,
        note=note,
        created_by_id=actor.user_id,
        created_at=datetime.now(UTC),
    )
    # Rendered before the row is added: a version never exists without its DOCX.
    version.docx_sha256 = _render_version_docx(rt, session, doc, version)
    session.add(version)
    session.flush()
    session.refresh(doc)
    return version


def _validate_parties(
    session: Session, parties: Sequence[PartyInput]
) -> list[tuple[Organisation, User | None]]:
    if not parties:
        raise InvalidInput("parties", "a document needs at least one party")
    seen: set[int] = set()
    result = []
    for i, p in enumerate(parties):
        org = session.get(Organisation, p.organisation_id)
        if org is None:
            raise InvalidInput(f"parties[{i}].organisation_id", "no such organisation")
        if org.id in seen:
            raise InvalidInput(f"parties[{i}].organisation_id", "listed twice")
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
                raise InvalidInput(f"parties[{i}].representative_id", f"not a person of {org.name}")
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
            raise InvalidInput(f"signatories[{i}].user_id", "no such person")
        if user.id in seen:
            raise InvalidInput(f"signatories[{i}].user_id", "listed twice")
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
                    "say for which party organisation this person signs",
                )
            org_id = signing_orgs.pop()
        elif org_id not in signing_orgs:
            raise InvalidInput(
                f"signatories[{i}].user_id",
                f"{user.full_name} is not a signatory of a party organisation {org_id}",
            )
        function = (s.function or user.function_title or "").strip()
        if not function:
            raise InvalidInput(f"signatories[{i}].function", "required: the signer's function")
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
        raise InvalidInput("title", "required, at most 300 characters")
    authoring = [org for org, role in actor.roles_by_org if role == Role.AUTHOR]
    if not authoring:
        raise NotPermitted("creating documents needs the author role")
    owner_id = owner_organisation_id if owner_organisation_id is not None else authoring[0]
    if owner_id not in authoring:
        raise NotPermitted("you are not an author in that organisation")
    with transaction(rt.sessions) as session:
        tv = latest_version(session, template_name)
        schema = FieldSchema.parse(tv.field_schema, source=template_name)
        clean = _jsonable(schema.validate(values))
        orgs = _validate_parties(session, parties)
        signers = _validate_signatories(session, signatories, {o.id for o, _ in orgs})
        doc = Document(
            kind=tv.template.kind,
            title=title,
            template_version_id=tv.id,
            owner_organisation_id=owner_id,
            status=Status.DRAFT,
            lock_version=1,
            created_by_id=actor.user_id,
        )
        session.add(doc)
        session.flush()
        year = datetime.now(UTC).year
        doc.reference = f"{REFERENCE_PREFIX[doc.kind]}/{year}/{doc.id:04d}"
        for i, (org, rep) in enumerate(orgs, start=1):
            session.add(
                DocumentParty(
                    document_id=doc.id,
                    organisation_id=org.id,
                    position=i,
                    representative_id=rep.id if rep else None,
                )
            )
        for i, (user, org_id, function) in enumerate(signers, start=1):
            session.add(
                DocumentSignatory(
                    document_id=doc.id,
                    position=i,
                    user_id=user.id,
                    organisation_id=org_id,
                    function=function,
                )
            )
        session.flush()
        version = _add_version(rt, session, doc, actor=actor, values=clean, note="created")
        audit.append(
            session,
            action="document.created",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=doc.id,
            payload={
                "reference": doc.reference,
                "template": template_name,
                "template_version": tv.number,
                "version": version.number,
                "docx_sha256": version.docx_sha256,
                "parties": [o.id for o, _ in orgs],
                "signatories": [u.id for u, _, _ in signers],
            },
        )
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
    draft and its approvals are void."""
    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, document_id)
        seen = doc.lock_version if seen_lock_version is None else seen_lock_version
        if seen != doc.lock_version:
            raise ConflictingChange(f"document {doc.reference}")
        t = transition_for(Action.EDIT)
        check_transition(session, actor, doc, t)
        previous = doc.versions[-1]
        merged = {**previous.field_values, **values}
        schema = FieldSchema.parse(doc.template_version.field_schema, source=doc.reference or "")
        clean = _jsonable(schema.validate(merged))
        was = doc.status
        move_status(session, doc, target=t.target, seen=seen)
        voided = void_approvals(session, doc) if was == Status.APPROVED else 0
        version = _add_version(rt, session, doc, actor=actor, values=clean, note=note)
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
        session.refresh(doc)
        return DocumentView.of(doc)
