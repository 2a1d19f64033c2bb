"""What the document page shows, read at once: the document, the actions the reader may take
now (from the transition table, as ``available_actions`` gives them), its versions, the
comment threads and the audit history, every person as the directory shows them.

One read transaction and a fixed number of queries, whatever the number of versions,
comments or records, each reading the columns shown (``documents.shown``: no ORM objects,
no values of older versions, no renditions but whether the PDF exists; the history limited
in SQL to the newest ``HISTORY_LIMIT`` records): no per-row loading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflow.db import read_rows, transaction
from workflow.documents.comments import CommentThread, threads
from workflow.documents.compare import schema_options
from workflow.documents.reading import Named, name_actors, newest_audit_records, people_names
from workflow.documents.shown import VersionRow, shown_document, version_rows, visible_view
from workflow.i18n import label
from workflow.identity.actors import Actor
from workflow.models import Comment
from workflow.runtime import Runtime
from workflow.states import allowed_actions, transition_for
from workflow.views import ActionView, CommentView, DocumentView


@dataclass(frozen=True)
class VersionSummary:
    """A saved version as the list of versions shows it."""

    number: int
    author_name: str
    author_function: str | None
    created_at: datetime
    note: str | None
    pdf_rendered: bool


@dataclass(frozen=True)
class FieldShown:
    """A field of the current version with its labels from the template's field schema."""

    name: str
    label_pl: str
    label_en: str
    type: str
    value: Any
    columns: tuple[tuple[str, str, str, str], ...] = ()
    """For a table: (name, Polish label, English label, type) of each column."""
    options: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """For a choice or a list of choices: value -> (Polish, English) label."""
    column_options: Mapping[str, Mapping[str, tuple[str, str]]] = field(default_factory=dict)
    """For a table: the options of each choice column, by the column's name."""


@dataclass(frozen=True)
class DocumentOverview:
    document: DocumentView
    actions: list[ActionView]
    versions: list[VersionSummary]
    """Oldest first."""
    fields: list[FieldShown]
    """The current version's values in the template's field order."""
    comments: list[CommentThread]
    history: list[dict[str, Any]]
    """The document's newest audit records (``HISTORY_LIMIT``), oldest first, as
    ``document_audit`` shows them (without the chain's hashes)."""
    history_complete: bool = True
    """False: older records than those in ``history`` exist."""


def _label(spec: dict[str, Any], key: str) -> str:
    """A field's label (``label``: Polish, ``label_en``), falling back to Polish, then its name."""
    return str(spec.get(key) or spec.get("label") or spec["name"])


def fields_shown(schema: dict[str, Any], values: dict[str, Any]) -> list[FieldShown]:
    """The values in the schema's field order, labelled; a value the schema does not name
    (a field of an older template version) comes last under its own name."""
    result = []
    named = set()
    options = schema_options(schema)
    for f in schema.get("fields", []):
        name = f.get("name")
        if not isinstance(name, str):
            continue
        named.add(name)
        columns = tuple(
            (str(c["name"]), _label(c, "label"), _label(c, "label_en"), str(c.get("type", "")))
            for c in f.get("columns", [])
            if isinstance(c, dict) and "name" in c
        )
        result.append(
            FieldShown(
                name,
                _label(f, "label"),
                _label(f, "label_en"),
                str(f.get("type", "string")),
                values.get(name),
                columns,
                options.get(name) or options.get(f"{name}[]") or {},
                {c[0]: options[f"{name}.{c[0]}"] for c in columns if f"{name}.{c[0]}" in options},
            )
        )
    for name, value in values.items():
        if name not in named:
            result.append(FieldShown(name, name, name, "string", value))
    return result


#: The history on the page: the newest records, at most this many (the full trail: the
#: API's ``/documents/{id}/audit`` and ``estrategia audit``).
HISTORY_LIMIT = 100


def document_overview(rt: Runtime, *, actor: Actor, document_id: int) -> DocumentOverview:
    """Everything the document page shows; NotFound for a document the actor may not see.

    Eight queries whatever the number of versions, comments and records: the document's
    columns, its versions (the newest with its values), parties and signatories
    (``shown_document``), the comments, the newest records, and the names of the people in them.
    """
    with transaction(rt.read_sessions) as session:
        shown = shown_document(session, actor, document_id)
        doc = shown.view
        actions = [
            ActionView(a, label(a, "pl"), label(a, "en"), transition_for(a).needs_reason)
            for a in allowed_actions(doc.status, shown.context)
        ]
        fields = fields_shown(shown.field_schema, dict(doc.current_version.field_values))
        comments = _comment_rows(session, doc.id)
        records = newest_audit_records(session, doc.id, HISTORY_LIMIT + 1)
        people = people_names(
            session,
            viewer=actor,
            user_ids=chain(
                (v.created_by_id for v in shown.versions),
                (c.author_id for c in comments),
                (r["actor_id"] for r in records if r["actor_id"]),
            ),
        )
    numbers = {v.id: v.number for v in shown.versions}
    return DocumentOverview(
        document=doc,
        actions=actions,
        versions=_summaries(shown.versions, people),
        fields=fields,
        comments=threads([_comment(c, numbers, people) for c in comments]),
        history=name_actors(records[-HISTORY_LIMIT:], people),
        history_complete=len(records) <= HISTORY_LIMIT,
    )


_COMMENTS = (
    select(
        Comment.id,
        Comment.version_id,
        Comment.author_id,
        Comment.body,
        Comment.created_at,
        Comment.parent_id,
    )
    .where(Comment.document_id == bindparam("document_id"))
    .order_by(Comment.id)
)


def _comment_rows(session: Session, document_id: int) -> list[Any]:
    return list(read_rows(session, _COMMENTS, {"document_id": document_id}))


def _comment(c: Any, numbers: dict[int, int], people: Mapping[int, Named]) -> CommentView:
    """A comment as ``comments.comments_of`` shows it."""
    person = people.get(c.author_id)
    return CommentView(
        c.id,
        numbers.get(c.version_id) if c.version_id is not None else None,
        c.author_id,
        person.full_name if person else f"#{c.author_id}",
        c.body,
        c.created_at,
        c.parent_id,
        person.function_title if person else None,
    )


@dataclass(frozen=True)
class DocumentVersions:
    document: DocumentView
    versions: list[VersionSummary]
    """Oldest first."""


def _summaries(versions: list[VersionRow], people: Mapping[int, Named]) -> list[VersionSummary]:
    result = []
    for v in versions:
        person = people.get(v.created_by_id)
        result.append(
            VersionSummary(
                v.number,
                person.full_name if person else f"#{v.created_by_id}",
                person.function_title if person else None,
                v.created_at,
                v.note,
                v.pdf_sha256 is not None,
            )
        )
    return result


def document_versions(rt: Runtime, *, actor: Actor, document_id: int) -> DocumentVersions:
    """The document and every saved version (who, when, note); NotFound if not visible."""
    with transaction(rt.read_sessions) as session:
        view = visible_view(session, actor, document_id)
        versions = version_rows(session, document_id)
        people = people_names(session, viewer=actor, user_ids=(v.created_by_id for v in versions))
    return DocumentVersions(view, _summaries(versions, people))
