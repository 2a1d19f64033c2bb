"""What the use-cases return: frozen plain values, never ORM objects.

The web layer turns them into JSON with ``dataclasses.asdict``; pages read their attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflow.models import (
    Comment,
    Document,
    DocumentParty,
    DocumentSignatory,
    DocumentVersion,
    Organisation,
)
from workflow.states import Action, Status


@dataclass(frozen=True)
class OrganisationView:
    id: int
    name: str
    short_name: str
    kind: str
    teryt: str | None
    head_title: str | None
    seat: str | None
    parent_id: int | None

    @classmethod
    def of(cls, org: Organisation) -> OrganisationView:
        return cls(
            org.id,
            org.name,
            org.short_name,
            org.kind.value,
            org.teryt,
            org.head_title,
            org.seat,
            org.parent_id,
        )


@dataclass(frozen=True)
class PartyView:
    organisation: OrganisationView
    position: int
    representative_id: int | None
    representative_name: str | None

    @classmethod
    def of(cls, party: DocumentParty) -> PartyView:
        rep = party.representative
        return cls(
            OrganisationView.of(party.organisation),
            party.position,
            rep.id if rep else None,
            rep.full_name if rep else None,
        )


@dataclass(frozen=True)
class SignatoryView:
    position: int
    user_id: int
    full_name: str
    function: str
    organisation_id: int
    organisation_name: str
    signed_at: datetime | None

    @classmethod
    def of(cls, s: DocumentSignatory) -> SignatoryView:
        return cls(
            s.position,
            s.user_id,
            s.user.full_name,
            s.function,
            s.organisation_id,
            s.organisation.name,
            s.signed_at,
        )


@dataclass(frozen=True)
class VersionView:
    number: int
    field_values: dict[str, Any]
    docx_sha256: str
    pdf_sha256: str | None
    note: str | None
    created_by_id: int
    created_at: datetime

    @classmethod
    def of(cls, v: DocumentVersion) -> VersionView:
        return cls(
            v.number,
            dict(v.field_values),
            v.docx_sha256,
            v.pdf_sha256,
            v.note,
            v.created_by_id,
            v.created_at,
        )


@dataclass(frozen=True)
class DocumentView:
    id: int
    reference: str
    kind: str
    title: str
    status: Status
    lock_version: int
    owner_organisation: OrganisationView
    template: str
    template_version: int
    parties: list[PartyView]
    signatories: list[SignatoryView]
    current_version: VersionView
    frozen_pdf_sha256: str | None
    current_pdf_sha256: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, doc: Document) -> DocumentView:
        return cls(
            id=doc.id,
            reference=doc.reference or "",
            kind=doc.kind.value,
            title=doc.title,
            status=doc.status,
            lock_version=doc.lock_version,
            owner_organisation=OrganisationView.of(doc.owner_organisation),
            template=doc.template_version.template.name,
            template_version=doc.template_version.number,
            parties=[PartyView.of(p) for p in doc.parties],
            signatories=[SignatoryView.of(s) for s in doc.signatories],
            current_version=VersionView.of(doc.versions[-1]),
            frozen_pdf_sha256=doc.frozen_pdf_sha256,
            current_pdf_sha256=doc.current_pdf_sha256,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )


@dataclass(frozen=True)
class ActionView:
    action: Action
    label_pl: str
    label_en: str
    needs_reason: bool


@dataclass(frozen=True)
class CommentView:
    id: int
    version_number: int | None
    author_id: int
    author_name: str
    body: str
    created_at: datetime
    parent_id: int | None = None
    """The comment this one answers; None: it starts a thread."""
    author_function: str | None = None
    """The author's function as the directory shows it (e.g. "Radca prawny")."""

    @classmethod
    def of(
        cls,
        c: Comment,
        version_number: int | None,
        *,
        author_name: str | None = None,
        author_function: str | None = None,
    ) -> CommentView:
        """``author_name``: as the directory shows the author (default: ``c.author``'s)."""
        return cls(
            c.id,
            version_number,
            c.author_id,
            author_name if author_name is not None else c.author.full_name,
            c.body,
            c.created_at,
            c.parent_id,
            author_function,
        )


@dataclass(frozen=True)
class TemplateView:
    name: str
    kind: str
    title: str
    version: int
    docx_sha256: str
    field_schema: dict[str, Any]
    created_at: datetime
