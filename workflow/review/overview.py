"""What the document page shows, read at once: the document, the actions the reader may take
now (from the transition table, as ``available_actions`` gives them), its versions, the
comment threads and the audit history, every person as the directory shows them.

One read transaction and a fixed number of queries, whatever the number of versions,
comments or records (the document with ``DOCUMENT_LOAD``, then comments, audit records and
the people they name): no per-row loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.db import transaction
from workflow.documents.access import guard_context, load_visible
from workflow.documents.comments import CommentThread, comments_of, threads
from workflow.documents.reading import audit_of
from workflow.i18n import label
from workflow.identity.actors import Actor
from workflow.models import Document
from workflow.registry.directory import people_by_id
from workflow.runtime import Runtime
from workflow.states import allowed_actions, transition_for
from workflow.views import ActionView, DocumentView


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
    """The document's audit records, oldest first, as ``document_audit`` shows them."""


def _label(spec: dict[str, Any], key: str) -> str:
    """A field's label (``label``: Polish, ``label_en``), falling back to Polish, then its name."""
    return str(spec.get(key) or spec.get("label") or spec["name"])


def fields_shown(schema: dict[str, Any], values: dict[str, Any]) -> list[FieldShown]:
    """The values in the schema's field order, labelled; a value the schema does not name
    (a field of an older template version) comes last under its own name."""
    result = []
    named = set()
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
            )
        )
    for name, value in values.items():
        if name not in named:
            result.append(FieldShown(name, name, name, "string", value))
    return result


def document_overview(rt: Runtime, *, actor: Actor, document_id: int) -> DocumentOverview:
    """Everything the document page shows; NotFound for a document the actor may not see."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        ctx = guard_context(session, actor, doc)
        actions = [
            ActionView(a, label(a, "pl"), label(a, "en"), transition_for(a).needs_reason)
            for a in allowed_actions(doc.status, ctx)
        ]
        versions = _summaries(session, actor, doc)
        current = doc.versions[-1]
        fields = fields_shown(doc.template_version.field_schema, dict(current.field_values))
        comments = comments_of(session, actor, doc.id, {v.id: v.number for v in doc.versions})
        return DocumentOverview(
            document=DocumentView.of(doc),
            actions=actions,
            versions=versions,
            fields=fields,
            comments=threads(comments),
            history=audit_of(session, actor, doc.id),
        )


@dataclass(frozen=True)
class DocumentVersions:
    document: DocumentView
    versions: list[VersionSummary]
    """Oldest first."""


def _summaries(session: Session, actor: Actor, doc: Document) -> list[VersionSummary]:
    people = people_by_id(session, viewer=actor, user_ids=(v.created_by_id for v in doc.versions))
    result = []
    for v in doc.versions:
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
        doc = load_visible(session, actor, document_id)
        return DocumentVersions(DocumentView.of(doc), _summaries(session, actor, doc))
