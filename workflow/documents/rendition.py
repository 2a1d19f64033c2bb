"""A version's files: its DOCX, its PDF/A rendition, and the PDF awaiting or bearing
signatures.

A version's PDF/A is rendered by a job (``documents.render_pdf``) after the change that
made the version commits (its outbox entry), or when first requested: :func:`pdf_state`
asks whether it is rendered, :func:`request_pdf` also queues the render, :func:`render_pdf`
renders (what the job runs; idempotent)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflow import audit, outbox
from workflow.db import transaction
from workflow.documents.access import (
    load_visible,
)
from workflow.documents.reading import version_of
from workflow.errors import ErrorCode, InvalidInput, NotFound
from workflow.identity.actors import Actor
from workflow.models import DocumentVersion, OutboxEntry, Rendition
from workflow.runtime import Runtime
from workflow.states import Effect
from workflow.storage.blobs import store_file
from workflow.template_library.store import DOCX_MEDIA_TYPE

PDF_MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class PdfState:
    """Whether a version's PDF/A is rendered yet."""

    document_id: int
    reference: str
    version_id: int
    number: int
    sha256: str | None
    """None: not rendered yet (a render job is on its way once requested)."""

    @property
    def rendered(self) -> bool:
        return self.sha256 is not None


#: A render requested this long ago and not done is requested again (its job failed).
RENDER_RETRY_AFTER = timedelta(minutes=15)


def pdf_state(
    rt: Runtime, *, actor: Actor, document_id: int, version: int | None = None
) -> PdfState:
    """Is the version's PDF/A rendered? (Reads only.)"""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        v = version_of(doc, version)
        return PdfState(doc.id, doc.reference or str(doc.id), v.id, v.number, v.pdf_sha256)


def request_pdf(
    rt: Runtime, *, actor: Actor, document_id: int, version: int | None = None
) -> PdfState:
    """The version's PDF/A state; if it is not rendered, make sure a render is on its way:
    an outbox entry (once per version while one is pending), which a job carries out."""
    state = pdf_state(rt, actor=actor, document_id=document_id, version=version)
    if state.rendered:
        return state
    with transaction(rt.sessions) as session:
        pending = session.scalar(
            select(OutboxEntry.id)
            .where(
                OutboxEntry.effect == Effect.RENDER_PDF,
                OutboxEntry.version_id == state.version_id,
                OutboxEntry.completed_at.is_(None),
                OutboxEntry.created_at > datetime.now(UTC) - RENDER_RETRY_AFTER,
            )
            .limit(1)
        )
        rendered = session.scalar(
            select(Rendition.sha256).where(
                Rendition.version_id == state.version_id, Rendition.format == "pdf"
            )
        )
        if rendered is not None:
            return replace(state, sha256=rendered)
        if pending is None:
            outbox.add(
                session, [Effect.RENDER_PDF], document_id=document_id,
                version_id=state.version_id, payload={"version": state.number},
            )  # fmt: skip
    return state


def render_pdf(rt: Runtime, *, version_id: int, actor: Actor | None = None) -> str:
    """Render the version's PDF/A unless it has one; the sha256 of its PDF either way.

    Idempotent: one rendition per version, and one ``document.rendered`` record, however
    often it runs or races (the unique rendition wins; the loser's file is the same). The
    conversion runs outside any transaction (it takes LibreOffice time). ``actor``: who
    asked (None: the system, a job)."""
    with transaction(rt.read_sessions) as session:
        v = session.get(DocumentVersion, version_id)
        if v is None:
            raise NotFound(ErrorCode.NOT_FOUND, what=f"version id {version_id}")
        existing = v.pdf_sha256
        if existing:
            return existing
        document_id, number, docx_sha = v.document_id, v.number, v.docx_sha256
    pdf = rt.converter.convert(rt.blobs.get(docx_sha))
    try:
        with transaction(rt.sessions) as session:
            sha = store_file(session, rt.blobs, pdf, PDF_MEDIA_TYPE)
            session.add(Rendition(version_id=version_id, format="pdf", sha256=sha))
            session.flush()
            audit.append(
                session,
                action="document.rendered",
                actor_id=actor.user_id if actor else None,
                actor=actor.email if actor else "system",
                document_id=document_id,
                payload={"version": number, "format": "pdf", "sha256": sha},
            )
            return sha
    except IntegrityError:
        with transaction(rt.read_sessions) as session:
            return session.scalars(
                select(Rendition.sha256).where(
                    Rendition.version_id == version_id, Rendition.format == "pdf"
                )
            ).one()


def ensure_pdf(rt: Runtime, *, actor: Actor, document_id: int, version: int | None = None) -> str:
    """The sha256 of the version's PDF/A, rendering it here first if it has none (for the
    steps that cannot go on without it; downloads ask :func:`request_pdf` instead)."""
    state = pdf_state(rt, actor=actor, document_id=document_id, version=version)
    if state.sha256 is not None:
        return state.sha256
    return render_pdf(rt, version_id=state.version_id, actor=actor)


def get_file(
    rt: Runtime, *, actor: Actor, document_id: int, version: int | None, fmt: str
) -> tuple[bytes, str, str]:
    """(content, filename, media type) of a version as DOCX or PDF, or of the signed PDF
    (fmt "signed"). A PDF not rendered yet is ``NotFound`` (``pdf_not_rendered``): ask
    :func:`request_pdf` first."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        base = (doc.reference or str(doc.id)).replace("/", "-")
        if fmt == "docx":
            v = version_of(doc, version)
            return rt.blobs.get(v.docx_sha256), f"{base}-v{v.number}.docx", DOCX_MEDIA_TYPE
        if fmt == "pdf":
            v = version_of(doc, version)
            sha = v.pdf_sha256
            if sha is None:
                raise NotFound(
                    ErrorCode.PDF_NOT_RENDERED, reference=doc.reference, version=v.number
                )
            return rt.blobs.get(sha), f"{base}-v{v.number}.pdf", PDF_MEDIA_TYPE
        if fmt == "signed":
            if doc.current_pdf_sha256 is None:
                raise NotFound(ErrorCode.SIGNED_PDF_NOT_FOUND, reference=doc.reference)
            try:
                signed = rt.blobs.get(doc.current_pdf_sha256)
            except FileNotFoundError:  # disposed of by the archive (workflow.archive.retention)
                raise NotFound(ErrorCode.SIGNED_PDF_NOT_FOUND, reference=doc.reference) from None
            return signed, f"{base}-podpisany.pdf", PDF_MEDIA_TYPE
    raise InvalidInput("format", ErrorCode.NOT_ONE_OF, expected="docx, pdf, signed")
