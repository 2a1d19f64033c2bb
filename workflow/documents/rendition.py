"""A version's files: its DOCX, its PDF/A rendition (made on first request and kept), and
the PDF awaiting or bearing signatures."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflow import audit
from workflow.db import transaction
from workflow.documents.access import (
    load_visible,
)
from workflow.documents.reading import version_of
from workflow.errors import ErrorCode, InvalidInput, NotFound
from workflow.identity.actors import Actor
from workflow.models import (
    Rendition,
)
from workflow.runtime import Runtime
from workflow.storage.blobs import store_file
from workflow.template_library.store import DOCX_MEDIA_TYPE

PDF_MEDIA_TYPE = "application/pdf"


def ensure_pdf(rt: Runtime, *, actor: Actor, document_id: int, version: int | None = None) -> str:
    """The sha256 of the version's PDF/A, rendering it first if it has none.

    The conversion runs outside any transaction (it takes LibreOffice time); the rendition
    row is written afterwards, and a racing duplicate is harmless: both are the same file.
    """
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        v = version_of(doc, version)
        existing = v.pdf_sha256
        if existing:
            return existing
        version_id, number, docx_sha = v.id, v.number, v.docx_sha256
    pdf = rt.converter.convert(rt.blobs.get(docx_sha))
    try:
        with transaction(rt.sessions) as session:
            sha = store_file(session, rt.blobs, pdf, PDF_MEDIA_TYPE)
            session.add(Rendition(version_id=version_id, format="pdf", sha256=sha))
            session.flush()
            audit.append(
                session,
                action="document.rendered",
                actor_id=actor.user_id,
                actor=actor.email,
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


def get_file(
    rt: Runtime, *, actor: Actor, document_id: int, version: int | None, fmt: str
) -> tuple[bytes, str, str]:
    """(content, filename, media type) of a version as DOCX or PDF, or of the signed PDF
    (fmt "signed")."""
    if fmt == "pdf":
        sha = ensure_pdf(rt, actor=actor, document_id=document_id, version=version)
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        base = (doc.reference or str(doc.id)).replace("/", "-")
        if fmt == "docx":
            v = version_of(doc, version)
            return rt.blobs.get(v.docx_sha256), f"{base}-v{v.number}.docx", DOCX_MEDIA_TYPE
        if fmt == "pdf":
            v = version_of(doc, version)
            return rt.blobs.get(sha), f"{base}-v{v.number}.pdf", PDF_MEDIA_TYPE
        if fmt == "signed":
            if doc.current_pdf_sha256 is None:
                raise NotFound(ErrorCode.SIGNED_PDF_NOT_FOUND, reference=doc.reference)
            return rt.blobs.get(doc.current_pdf_sha256), f"{base}-podpisany.pdf", PDF_MEDIA_TYPE
    raise InvalidInput("format", ErrorCode.NOT_ONE_OF, expected="docx, pdf, signed")
