"""Documents as the pages and the API's reads show them: the columns shown, read in a fixed
number of queries whatever the number of documents, versions or renditions, and no ORM
objects (no eager loading of every collection, as ``access.DOCUMENT_LOAD`` does for the
use-cases that change a document).

``views_of(session, query)``
    The ``DocumentView`` of each document a query of :func:`document_columns` finds, in its
    order: the documents, their parties, their signatories and each one's newest version
    (with its values and whether its PDF is rendered): four queries for any number.
``shown_document(session, actor, document_id)``
    One document the actor may see (else NotFound: existence does not leak; the same SQL
    rule as every list, ``access.VISIBLE``), its versions (only the newest one's values),
    and the guard context of the transition table for the actor: four queries.

The statements are built once, at import; a request binds their parameters (building and
keying a statement per request was a good share of a page's CPU under load, bench/web.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    null,
    select,
)
from sqlalchemy.orm import Session, aliased

from workflow.db import read_rows
from workflow.documents.access import VISIBLE, guard_context_of, visible_params
from workflow.errors import ErrorCode, NotFound
from workflow.identity.actors import Actor
from workflow.models import (
    Document,
    DocumentParty,
    DocumentSignatory,
    DocumentVersion,
    Organisation,
    Rendition,
    Template,
    TemplateVersion,
    User,
)
from workflow.states import GuardContext
from workflow.views import (
    DocumentView,
    OrganisationView,
    PartyView,
    SignatoryView,
    VersionView,
)

_ORG_COLUMNS = (
    Organisation.id.label("org_id"),
    Organisation.name.label("org_name"),
    Organisation.short_name.label("org_short_name"),
    Organisation.kind.label("org_kind"),
    Organisation.teryt.label("org_teryt"),
    Organisation.head_title.label("org_head_title"),
    Organisation.seat.label("org_seat"),
    Organisation.parent_id.label("org_parent_id"),
)

#: The newest version of the document of the row (a correlated subquery: the unique
#: (document_id, number) index answers it).
_NEWER = aliased(DocumentVersion, name="newer")


@dataclass(frozen=True)
class VersionRow:
    """A saved version without its values (what lists of versions show)."""

    id: int
    number: int
    created_by_id: int
    created_at: datetime
    note: str | None
    docx_sha256: str
    pdf_sha256: str | None


@dataclass(frozen=True)
class ShownDocument:
    view: DocumentView
    versions: list[VersionRow]
    """Oldest first."""
    field_schema: dict[str, Any]
    """The field schema of the document's template version."""
    context: GuardContext
    """What the transition table's guards look at, for the actor (``guard_context_of``)."""


def document_columns(*, with_schema: bool = False) -> Select[Any]:
    """The query of documents' own columns, their owning office's and their template's:
    add the conditions, the order and the limit, then give it to :func:`views_of`."""
    columns: list[Any] = [
        Document.id, Document.reference, Document.kind, Document.title, Document.status,
        Document.lock_version, Document.frozen_pdf_sha256, Document.current_pdf_sha256,
        Document.created_at, Document.updated_at, *_ORG_COLUMNS,
        Template.name.label("template_name"), TemplateVersion.number.label("template_number"),
    ]  # fmt: skip
    if with_schema:
        columns.append(TemplateVersion.field_schema)
    return (
        select(*columns)
        .join(Organisation, Organisation.id == Document.owner_organisation_id)
        .join(TemplateVersion, TemplateVersion.id == Document.template_version_id)
        .join(Template, Template.id == TemplateVersion.template_id)
    )


def _organisation(r: Any) -> OrganisationView:
    return OrganisationView(
        r.org_id,
        r.org_name,
        r.org_short_name,
        r.org_kind.value,
        r.org_teryt,
        r.org_head_title,
        r.org_seat,
        r.org_parent_id,
    )


_IDS: BindParameter[int] = bindparam("ids", type_=Integer, expanding=True)

#: The statements below are built once (a request binds ``ids`` or ``document_id``).
_PARTIES = (
    select(
        DocumentParty.document_id,
        DocumentParty.position,
        DocumentParty.representative_id,
        User.full_name,
        *_ORG_COLUMNS,
    )
    .join(Organisation, Organisation.id == DocumentParty.organisation_id)
    .outerjoin(User, User.id == DocumentParty.representative_id)
    .where(DocumentParty.document_id.in_(_IDS))
    .order_by(DocumentParty.document_id, DocumentParty.position)
)


def _parties(session: Session, ids: list[int]) -> dict[int, list[PartyView]]:
    result: dict[int, list[PartyView]] = defaultdict(list)
    for r in read_rows(session, _PARTIES, {"ids": ids}):
        name = r.full_name if r.representative_id is not None else None
        result[r.document_id].append(
            PartyView(_organisation(r), r.position, r.representative_id, name)
        )
    return result


_SIGNATORIES = (
    select(
        DocumentSignatory.document_id,
        DocumentSignatory.position,
        DocumentSignatory.user_id,
        User.full_name,
        DocumentSignatory.function,
        DocumentSignatory.organisation_id,
        Organisation.name,
        DocumentSignatory.signed_at,
    )
    .join(User, User.id == DocumentSignatory.user_id)
    .join(Organisation, Organisation.id == DocumentSignatory.organisation_id)
    .where(DocumentSignatory.document_id.in_(_IDS))
    .order_by(DocumentSignatory.document_id, DocumentSignatory.position)
)


def _signatories(session: Session, ids: list[int]) -> dict[int, list[SignatoryView]]:
    result: dict[int, list[SignatoryView]] = defaultdict(list)
    for r in read_rows(session, _SIGNATORIES, {"ids": ids}):
        result[r.document_id].append(
            SignatoryView(
                r.position,
                r.user_id,
                r.full_name,
                r.function,
                r.organisation_id,
                r.name,
                r.signed_at,
            )
        )
    return result


_PDF = and_(Rendition.version_id == DocumentVersion.id, Rendition.format == "pdf")
_NEWEST_NUMBER = (
    select(func.max(_NEWER.number))
    .where(_NEWER.document_id == DocumentVersion.document_id)
    .scalar_subquery()
)


def _version_columns(values: bool = True) -> tuple[Any, ...]:
    """What a ``VersionView`` is made of (``values=False``: its values left out)."""
    return (
        DocumentVersion.number,
        DocumentVersion.field_values if values else null().label("field_values"),
        DocumentVersion.docx_sha256,
        Rendition.sha256.label("pdf_sha256"),
        DocumentVersion.note,
        DocumentVersion.created_by_id,
        DocumentVersion.created_at,
    )


def _version_view(r: Any, values: bool = True) -> VersionView:
    """A row of :func:`_version_columns` as a ``VersionView`` (``values=False``: {})."""
    return VersionView(
        r.number,
        dict(r.field_values) if values else {},
        r.docx_sha256,
        r.pdf_sha256,
        r.note,
        r.created_by_id,
        r.created_at,
    )


def _newest_statement(values: bool) -> Select[Any]:
    return (
        select(DocumentVersion.document_id, *_version_columns(values))
        .outerjoin(Rendition, _PDF)
        .where(DocumentVersion.document_id.in_(_IDS), DocumentVersion.number == _NEWEST_NUMBER)
    )


_NEWEST = {values: _newest_statement(values) for values in (True, False)}


def _newest_versions(
    session: Session, ids: list[int], values: bool = True
) -> dict[int, VersionView]:
    return {
        r.document_id: _version_view(r, values)
        for r in read_rows(session, _NEWEST[values], {"ids": ids})
    }


def views_of(
    session: Session,
    query: Select[Any],
    params: Mapping[str, Any] | None = None,
    *,
    values: bool = True,
) -> list[DocumentView]:
    """The view of each document ``query`` (a :func:`document_columns` query) finds with
    ``params``. ``values=False``: for a list that does not show them, each current
    version's ``field_values`` is left empty (not read, not decoded)."""
    rows = read_rows(session, query, params).all()
    return _views(session, rows, values=values)


def _views(
    session: Session,
    rows: Sequence[Any],
    newest: dict[int, VersionView] | None = None,
    *,
    values: bool = True,
) -> list[DocumentView]:
    """``newest``: each document's newest version if already read."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    parties = _parties(session, ids)
    signatories = _signatories(session, ids)
    if newest is None:
        newest = _newest_versions(session, ids, values)
    return [
        DocumentView(
            id=r.id,
            reference=r.reference or "",
            kind=r.kind.value,
            title=r.title,
            status=r.status,
            lock_version=r.lock_version,
            owner_organisation=_organisation(r),
            template=r.template_name,
            template_version=r.template_number,
            parties=parties.get(r.id, []),
            signatories=signatories.get(r.id, []),
            current_version=newest[r.id],
            frozen_pdf_sha256=r.frozen_pdf_sha256,
            current_pdf_sha256=r.current_pdf_sha256,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


_ONE = document_columns().where(Document.id == bindparam("document_id"), VISIBLE)
_ONE_WITH_SCHEMA = document_columns(with_schema=True).where(
    Document.id == bindparam("document_id"), VISIBLE
)


def visible_document_row(
    session: Session, actor: Actor, document_id: int, *, with_schema: bool = False
) -> Any:
    """The document's row of :func:`document_columns` if the actor may see it; NotFound
    otherwise (existence does not leak; :data:`access.VISIBLE`, the rule of the lists)."""
    query = _ONE_WITH_SCHEMA if with_schema else _ONE
    row = read_rows(session, query, {**visible_params(actor), "document_id": document_id}).first()
    if row is None:
        raise NotFound(ErrorCode.DOCUMENT_NOT_FOUND, document_id=document_id)
    return row


def visible_view(session: Session, actor: Actor, document_id: int) -> DocumentView:
    """The view of one document the actor may see (NotFound otherwise): four queries."""
    return _views(session, [visible_document_row(session, actor, document_id)])[0]


_VERSIONS = (
    select(
        DocumentVersion.id,
        DocumentVersion.number,
        DocumentVersion.created_by_id,
        DocumentVersion.created_at,
        DocumentVersion.note,
        DocumentVersion.docx_sha256,
        Rendition.sha256.label("pdf_sha256"),
        # The values of the newest version alone (the page shows no others).
        case(
            (DocumentVersion.number == _NEWEST_NUMBER, DocumentVersion.field_values), else_=None
        ).label("field_values"),
    )
    .outerjoin(Rendition, _PDF)
    .where(DocumentVersion.document_id == bindparam("document_id"))
    .order_by(DocumentVersion.number)
)


_VERSION_VIEWS = (
    select(*_version_columns())
    .outerjoin(Rendition, _PDF)
    .where(DocumentVersion.document_id == bindparam("document_id"))
    .order_by(DocumentVersion.number)
)


def version_views(session: Session, document_id: int) -> list[VersionView]:
    """Every version of a document with its values, oldest first: one query."""
    return [
        _version_view(r) for r in read_rows(session, _VERSION_VIEWS, {"document_id": document_id})
    ]


def version_rows(session: Session, document_id: int) -> list[VersionRow]:
    """A document's versions without their values, oldest first: one query."""
    return _versions(session, document_id)[0]


def _versions(session: Session, document_id: int) -> tuple[list[VersionRow], VersionView]:
    """The versions, oldest first, and the newest one with its values: one query."""
    rows = read_rows(session, _VERSIONS, {"document_id": document_id}).all()
    versions = [
        VersionRow(
            r.id, r.number, r.created_by_id, r.created_at, r.note, r.docx_sha256, r.pdf_sha256
        )
        for r in rows
    ]
    return versions, _version_view(rows[-1])


def shown_document(session: Session, actor: Actor, document_id: int) -> ShownDocument:
    """One visible document as its page shows it (NotFound otherwise): four queries."""
    row = visible_document_row(session, actor, document_id, with_schema=True)
    versions, newest = _versions(session, document_id)
    view = _views(session, [row], {row.id: newest})[0]
    context = guard_context_of(
        actor,
        owner_organisation_id=view.owner_organisation.id,
        version_author_ids=frozenset(v.created_by_id for v in versions),
        signatories=[(s.user_id, s.signed_at is not None) for s in view.signatories],
        current_pdf_sha256=view.current_pdf_sha256,
        has_pdf=view.current_version.pdf_sha256 is not None,
    )
    return ShownDocument(view, versions, dict(row.field_schema), context)
