"""Reading documents: one, a list, their versions, files and audit trail."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.db import read_rows, transaction
from workflow.documents.access import VISIBLE, load_visible, visible_params
from workflow.documents.shown import (
    document_columns,
    version_views,
    views_of,
    visible_document_row,
    visible_view,
)
from workflow.errors import ErrorCode, NotFound
from workflow.identity.actors import Actor
from workflow.models import (
    AuditRecord,
    Document,
    DocumentKind,
    DocumentParty,
    DocumentVersion,
    User,
)
from workflow.registry.directory import people_by_id
from workflow.runtime import Runtime
from workflow.states import Status
from workflow.views import DocumentView, VersionView


def get_document(rt: Runtime, *, actor: Actor, document_id: int) -> DocumentView:
    """One document the actor may see (NotFound otherwise): the columns its view shows, in
    four queries (``shown.visible_view``), none of its older versions' values."""
    with transaction(rt.read_sessions) as session:
        return visible_view(session, actor, document_id)


@functools.cache
def _list_statement(by_status: bool, by_kind: bool, by_party: bool) -> Select[Any]:
    """The list's statement for the filters given, built once per combination (a request
    binds ``status``, ``kind``, ``organisation_id``, ``limit``, ``offset`` and
    :data:`access.VISIBLE`'s parameters)."""
    query = document_columns().where(VISIBLE)
    if by_status:
        query = query.where(Document.status == bindparam("status"))
    if by_kind:
        query = query.where(Document.kind == bindparam("kind"))
    if by_party:
        party = select(DocumentParty.document_id).where(
            DocumentParty.organisation_id == bindparam("organisation_id")
        )
        query = query.where(Document.id.in_(party))
    return (
        query.order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def list_documents(
    rt: Runtime,
    *,
    actor: Actor,
    status: Status | None = None,
    kind: DocumentKind | None = None,
    organisation_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    values: bool = True,
) -> list[DocumentView]:
    """A page of the actor's visible documents, newest change first: four queries whatever
    the page's size (``shown.views_of``), each document's newest version only (``values``:
    with its field values; without, they are left empty)."""
    query = _list_statement(status is not None, kind is not None, organisation_id is not None)
    params = {
        **visible_params(actor), "status": status, "kind": kind,
        "organisation_id": organisation_id, "limit": max(1, min(limit, 200)),
        "offset": max(0, offset),
    }  # fmt: skip
    with transaction(rt.read_sessions) as session:
        return views_of(session, query, params, values=values)


def history(rt: Runtime, *, actor: Actor, document_id: int) -> list[VersionView]:
    """Every version with its values, oldest first; NotFound if the actor may not see the
    document: two queries."""
    with transaction(rt.read_sessions) as session:
        visible_document_row(session, actor, document_id)
        return version_views(session, document_id)


def version_of(doc: Document, number: int | None) -> DocumentVersion:
    if number is None:
        return doc.versions[-1]
    for v in doc.versions:
        if v.number == number:
            return v
    raise NotFound(ErrorCode.VERSION_NOT_FOUND, version=number, reference=doc.reference)


def document_audit(rt: Runtime, *, actor: Actor, document_id: int) -> list[dict[str, Any]]:
    """The document's audit records, oldest first, each actor shown as the directory shows
    them to the caller: ``actor`` (name), ``actor_function`` and ``actor_email`` (None
    unless the directory shows it, i.e. to e-Izba staff). The stored records keep what they
    hold, e-mail included, and their hashes cover that: ``estrategia audit verify`` checks
    the chain, not this view.
    """
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        return audit_of(session, actor, doc.id)


def audit_of(session: Session, actor: Actor, document_id: int) -> list[dict[str, Any]]:
    """The records of a document already found visible, shown as :func:`document_audit`
    shows them (for use-cases that show them with other things in one read)."""
    records = audit.export(session, document_id=document_id)
    people = people_by_id(
        session, viewer=actor, user_ids=(r["actor_id"] for r in records if r["actor_id"])
    )
    return name_actors(records, people)


class Named(Protocol):
    """A person as a page names them (``PersonView`` is one, :class:`PersonName` too)."""

    @property
    def full_name(self) -> str: ...
    @property
    def function_title(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...


@dataclass(frozen=True)
class PersonName:
    """What pages show of a person who acted on a document: name, function, and the
    e-mail as the directory shows it (to e-Izba staff only, ``directory.person_view``)."""

    full_name: str
    function_title: str | None
    email: str | None


_NAMES = select(User.id, User.full_name, User.function_title, User.email).where(
    User.id.in_(bindparam("ids", expanding=True))
)


def people_names(
    session: Session, *, viewer: Actor, user_ids: Iterable[int]
) -> dict[int, PersonName]:
    """The people behind ``user_ids`` (deactivated ones too) as pages name them to
    ``viewer``: one query (``directory.people_by_id`` also loads their memberships)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    staff = viewer.chamber_staff
    return {
        r.id: PersonName(r.full_name, r.function_title, r.email if staff else None)
        for r in read_rows(session, _NAMES, {"ids": ids})
    }


def name_actors(records: list[dict[str, Any]], people: Mapping[int, Named]) -> list[dict[str, Any]]:
    """Each record's ``actor`` (name), ``actor_function`` and ``actor_email`` as the
    directory shows them (``people``: ``people_by_id`` of the records' actors)."""
    for record in records:
        person = people.get(record["actor_id"]) if record["actor_id"] else None
        if record["actor_id"] is not None:
            record["actor"] = person.full_name if person else f"user {record['actor_id']}"
        record["actor_function"] = person.function_title if person else None
        record["actor_email"] = person.email if person else None
    return records


_NEWEST_RECORDS = (
    select(
        AuditRecord.seq,
        AuditRecord.recorded_at,
        AuditRecord.actor_id,
        AuditRecord.actor,
        AuditRecord.action,
        AuditRecord.payload,
    )
    .where(AuditRecord.document_id == bindparam("document_id"))
    .order_by(AuditRecord.seq.desc())
    .limit(bindparam("limit", type_=Integer))
)


def newest_audit_records(session: Session, document_id: int, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` records of a document, oldest first, as ``audit.export`` gives
    them but without the chain's hashes (for pages; the limit is in SQL): one query. The
    actors are still as stored: name them with :func:`name_actors`."""
    params = {"document_id": document_id, "limit": limit}
    records = [
        {
            "seq": r.seq,
            "recorded_at": r.recorded_at.isoformat(),
            "actor_id": r.actor_id,
            "actor": r.actor,
            "document_id": document_id,
            "action": r.action,
            "payload": json.loads(r.payload),
        }
        for r in read_rows(session, _NEWEST_RECORDS, params)
    ]
    records.reverse()
    return records
