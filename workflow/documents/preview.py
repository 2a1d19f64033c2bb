"""Drafting in the browser: the working draft a person autosaves, and previews of values as
page images.

**Autosave is not a version.** Versions are evidence (immutable, audited, listed, compared,
reviewed); a browser that saved one every two seconds of typing would bury the three
versions that matter under hundreds. So an autosave replaces the person's *working draft*
of the document (one row per document and person, the raw form text, valid or not: half a
date must survive a closed tab), with no audit record; *Zapisz wersję* (``edit_document``)
makes the version and deletes the working draft. Only people who may edit the document now
may keep one.

**Preview.** :func:`request_preview` validates the values, builds what the template would
see (a transient next version: today's date, the document's parties and signatories),
and keys a ``preview_renders`` row by the sha256 of the template's DOCX and that context:
the same values give the same row, so a preview is rendered once however often it is asked
for. The job (``jobs.handlers.preview``) runs :func:`render_preview`: DOCX, then PDF/A
through the warm converter, then one PNG per page with poppler's ``pdftoppm -png -r 80``,
stored in the blob store; the row lists their sha256s. Previews are a cache, not evidence:
no audit record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.db import transaction
from workflow.documents.access import check_transition, load_visible
from workflow.documents.context import render_context
from workflow.errors import (
    ConflictingChange,
    ErrorCode,
    EstrategiaError,
    GuardRefused,
    NotFound,
    NotPermitted,
    TransitionNotAllowed,
)
from workflow.identity.actors import Actor
from workflow.models import Document, DocumentVersion, PreviewRender, WorkingDraft
from workflow.rendering.engine import render_docx
from workflow.rendering.fields import FieldSchema
from workflow.runtime import Runtime
from workflow.states import Action, transition_for
from workflow.storage.blobs import store_file
from workflow.views import DocumentView

PNG_MEDIA_TYPE: Final = "image/png"
PREVIEW_DPI: Final = 80
MAX_PREVIEW_PAGES: Final = 40
PDFTOPPM_TIMEOUT_S: Final = 60
#: A preview pending this long is asked of the queue again (its job may have been lost).
PREVIEW_RETRY_AFTER: Final = timedelta(minutes=2)

PENDING: Final = "pending"
READY: Final = "ready"
FAILED: Final = "failed"


# -- working drafts ---------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingDraftView:
    document_id: int
    based_on_version: int
    form_values: dict[str, Any]
    """Raw form text by field (see ``web.pages.forms``), maybe invalid."""
    updated_at: datetime


def save_working_draft(
    rt: Runtime, *, actor: Actor, document_id: int, form_values: Mapping[str, Any]
) -> WorkingDraftView:
    """Replace the actor's working draft of the document (who may not edit it now: the
    refusal ``edit`` would get)."""
    values = json.loads(json.dumps(dict(form_values), ensure_ascii=False))
    now = datetime.now(UTC)
    for _attempt in range(2):
        try:
            with transaction(rt.sessions) as session:
                doc = load_visible(session, actor, document_id)
                check_transition(session, actor, doc, transition_for(Action.EDIT))
                based_on = doc.versions[-1].number
                row = _draft_row(session, actor, document_id)
                if row is None:
                    row = WorkingDraft(document_id=document_id, user_id=actor.user_id)
                    session.add(row)
                row.based_on_version = based_on
                row.form_values = values
                row.updated_at = now
                session.flush()
                return WorkingDraftView(document_id, based_on, values, now)
        except IntegrityError:
            continue  # two tabs autosaved the first draft at once: update the winner's row
    raise ConflictingChange(ErrorCode.WORKING_DRAFT_CHANGED, document_id=document_id)


def working_draft(rt: Runtime, *, actor: Actor, document_id: int) -> WorkingDraftView | None:
    """The actor's working draft of the document, if they left one. (Reads only.)"""
    with transaction(rt.read_sessions) as session:
        load_visible(session, actor, document_id)
        row = _draft_row(session, actor, document_id)
        if row is None:
            return None
        return WorkingDraftView(
            document_id, row.based_on_version, dict(row.form_values), row.updated_at
        )


def discard_working_draft(rt: Runtime, *, actor: Actor, document_id: int) -> None:
    """Forget the actor's working draft (after saving a version, or on request)."""
    with transaction(rt.sessions) as session:
        load_visible(session, actor, document_id)
        session.execute(
            delete(WorkingDraft).where(
                WorkingDraft.document_id == document_id, WorkingDraft.user_id == actor.user_id
            )
        )


def _draft_row(session: Session, actor: Actor, document_id: int) -> WorkingDraft | None:
    return session.scalars(
        select(WorkingDraft).where(
            WorkingDraft.document_id == document_id, WorkingDraft.user_id == actor.user_id
        )
    ).first()


# -- previews ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewState:
    id: int
    document_id: int
    status: str
    """``pending``, ``ready`` or ``failed``."""
    pages: int
    error: str | None
    created_at: datetime
    needs_job: bool = False
    """True when the caller should queue the render (new, or pending for too long)."""

    @property
    def ready(self) -> bool:
        return self.status == READY

    @property
    def pending(self) -> bool:
        return self.status == PENDING


def _state(row: PreviewRender, *, needs_job: bool = False) -> PreviewState:
    return PreviewState(
        row.id, row.document_id, row.status, len(row.page_sha256s or []), row.error,
        row.created_at, needs_job,
    )  # fmt: skip


def request_preview(
    rt: Runtime, *, actor: Actor, document_id: int, values: Mapping[str, object]
) -> PreviewState:
    """The preview of ``values`` (validated: ``InvalidInput`` names the field), made
    pending if new. The caller queues the job when ``needs_job`` (see the module doc)."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        clean, context = _context(session, doc, values, datetime.now(UTC))
        key = _context_sha256(doc.template_version.docx_sha256, context)
        existing = _preview_row(session, document_id, key)
        if existing is not None and not _stale(existing):
            return _state(existing)
    try:
        with transaction(rt.sessions) as session:
            row = _preview_row(session, document_id, key)
            if row is None:
                row = PreviewRender(
                    document_id=document_id, context_sha256=key, field_values=clean,
                    status=PENDING, page_sha256s=[], created_at=datetime.now(UTC),
                )  # fmt: skip
                session.add(row)
            elif _stale(row):
                row.created_at = datetime.now(UTC)  # asked again: the job is queued again
            session.flush()
            return _state(row, needs_job=True)
    except IntegrityError:
        with transaction(rt.read_sessions) as session:
            row = _preview_row(session, document_id, key)
            assert row is not None  # noqa: S101 - the unique row another request inserted
            return _state(row)


def latest_preview(rt: Runtime, *, actor: Actor, document_id: int) -> PreviewState | None:
    """The newest ready preview of the document (what to show until a newer one is)."""
    with transaction(rt.read_sessions) as session:
        load_visible(session, actor, document_id)
        row = session.scalars(
            select(PreviewRender)
            .where(PreviewRender.document_id == document_id, PreviewRender.status == READY)
            .order_by(PreviewRender.finished_at.desc(), PreviewRender.id.desc())
            .limit(1)
        ).first()
        return _state(row) if row is not None else None


def preview_state(rt: Runtime, *, actor: Actor, document_id: int, preview_id: int) -> PreviewState:
    with transaction(rt.read_sessions) as session:
        load_visible(session, actor, document_id)
        return _state(_owned_row(session, document_id, preview_id))


def preview_page(
    rt: Runtime, *, actor: Actor, document_id: int, preview_id: int, page: int
) -> bytes:
    """The PNG of page ``page`` (1-based) of a ready preview."""
    with transaction(rt.read_sessions) as session:
        load_visible(session, actor, document_id)
        row = _owned_row(session, document_id, preview_id)
        shas = list(row.page_sha256s or [])
        if row.status != READY or not 1 <= page <= len(shas):
            raise NotFound(ErrorCode.NOT_FOUND, what=f"preview page {page}")
        sha = shas[page - 1]
    return rt.blobs.get(sha)


def render_preview(rt: Runtime, *, preview_id: int) -> PreviewState:
    """Render a pending preview's pages (what the job runs). Idempotent: a ready or failed
    preview is returned as it is. Values that no longer render (the template or a party
    changed since) fail the preview with the reason; a converter error propagates (the job
    retries it)."""
    with transaction(rt.read_sessions) as session:
        row = session.get(PreviewRender, preview_id)
        if row is None:
            raise NotFound(ErrorCode.NOT_FOUND, what=f"preview {preview_id}")
        if row.status != PENDING:
            return _state(row)
        doc = session.get(Document, row.document_id)
        if doc is None:  # pragma: no cover - documents are never deleted
            raise NotFound(ErrorCode.DOCUMENT_NOT_FOUND, document_id=row.document_id)
        try:
            _, context = _context(session, doc, row.field_values, row.created_at)
        except EstrategiaError as exc:
            return _finish(rt, preview_id, error=str(exc))
        template = rt.blobs.get(doc.template_version.docx_sha256)
    try:
        docx = render_docx(template, context, name=doc.reference or "preview")
    except EstrategiaError as exc:
        return _finish(rt, preview_id, error=str(exc))
    pdf = rt.converter.convert(docx)
    pages = pdf_pages_as_png(pdf, dpi=PREVIEW_DPI, max_pages=MAX_PREVIEW_PAGES)
    return _finish(rt, preview_id, pages=pages)


def _finish(
    rt: Runtime, preview_id: int, *, pages: list[bytes] | None = None, error: str | None = None
) -> PreviewState:
    with transaction(rt.sessions) as session:
        row = session.get(PreviewRender, preview_id)
        assert row is not None  # noqa: S101 - read above; previews are not deleted here
        if row.status != PENDING:
            return _state(row)  # another run finished it first
        if pages is not None:
            row.page_sha256s = [store_file(session, rt.blobs, p, PNG_MEDIA_TYPE) for p in pages]
            row.status = READY
        else:
            row.status = FAILED
            row.error = (error or "")[:2000]
        row.finished_at = datetime.now(UTC)
        session.flush()
        return _state(row)


def pdf_pages_as_png(pdf: bytes, *, dpi: int = PREVIEW_DPI, max_pages: int = 40) -> list[bytes]:
    """Each page of ``pdf`` as a PNG (poppler's ``pdftoppm``), first to last."""
    with tempfile.TemporaryDirectory(prefix="estrategia-preview-") as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(  # noqa: S603 - fixed program and arguments, our own temporary files
            ["pdftoppm", "-png", "-r", str(dpi), "-l", str(max_pages), str(source),  # noqa: S607 - poppler-utils from the system (README)
             str(Path(folder) / "page")],
            check=True, capture_output=True, timeout=PDFTOPPM_TIMEOUT_S,
        )  # fmt: skip
        files = sorted(
            Path(folder).glob("page-*.png"),
            key=lambda p: int(re.sub(r"\D", "", p.stem) or 0),
        )
        return [f.read_bytes() for f in files]


def _context(
    session: Session, doc: Document, values: Mapping[str, object], at: datetime
) -> tuple[dict[str, Any], dict[str, object]]:
    """(clean JSON values, what the template sees) for a transient next version."""
    schema = FieldSchema.parse(doc.template_version.field_schema, source=doc.reference or "")
    typed = schema.validate(values)
    number = (
        session.scalar(
            select(func.max(DocumentVersion.number)).where(DocumentVersion.document_id == doc.id)
        )
        or 0
    ) + 1
    version = DocumentVersion(number=number, field_values={}, created_at=at)
    context = render_context(doc, version, typed)
    return _jsonable(typed), context


def _jsonable(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _context_sha256(template_sha256: str, context: Mapping[str, object]) -> str:
    canonical = json.dumps(
        {"template": template_sha256, "context": _jsonable(context)},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _preview_row(session: Session, document_id: int, key: str) -> PreviewRender | None:
    return session.scalars(
        select(PreviewRender).where(
            PreviewRender.document_id == document_id, PreviewRender.context_sha256 == key
        )
    ).first()


def _owned_row(session: Session, document_id: int, preview_id: int) -> PreviewRender:
    row = session.get(PreviewRender, preview_id)
    if row is None or row.document_id != document_id:
        raise NotFound(ErrorCode.NOT_FOUND, what=f"preview {preview_id}")
    return row


def _stale(row: PreviewRender) -> bool:
    created = row.created_at
    if created.tzinfo is None:  # pragma: no cover - UTCDateTime gives aware datetimes
        created = created.replace(tzinfo=UTC)
    return row.status == PENDING and datetime.now(UTC) - created > PREVIEW_RETRY_AFTER


# -- what the drafting page reads -------------------------------------------------------


@dataclass(frozen=True)
class DraftingView:
    """What the drafting page of a document shows, read in one transaction."""

    document: DocumentView
    field_schema: dict[str, Any]
    """The schema of the document's own template version (not the newest one)."""
    can_edit: bool
    """Whether the actor may edit now (the ``edit`` row of the transition table)."""
    draft: WorkingDraftView | None
    """The actor's working draft, if they left one."""


def drafting_view(rt: Runtime, *, actor: Actor, document_id: int) -> DraftingView:
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        try:
            check_transition(session, actor, doc, transition_for(Action.EDIT))
            can_edit = True
        except (TransitionNotAllowed, NotPermitted, GuardRefused):
            can_edit = False
        row = _draft_row(session, actor, document_id)
        draft = (
            WorkingDraftView(document_id, row.based_on_version, dict(row.form_values),
                             row.updated_at)
            if row is not None
            else None
        )  # fmt: skip
        return DraftingView(
            DocumentView.of(doc), dict(doc.template_version.field_schema), can_edit, draft
        )
