"""What the signature page shows: the PDF awaiting signature (its sha256 and page images),
the approval history, the order of signatories with who has signed, and whether the reader
is the one to sign now.

Page images are a cache, not evidence: PNGs of the awaited PDF made with poppler's
``pdftoppm -png -r 80`` (``documents.preview.pdf_pages_as_png``) on first request, kept
under ``var_dir/cache/signing-pages/<sha256>/`` (the PDF is immutable: its sha256 names
it, so the cache never goes stale and several server processes may share it).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from workflow.db import transaction
from workflow.documents.access import guard_context, load_visible
from workflow.documents.preview import pdf_pages_as_png
from workflow.documents.reading import audit_of
from workflow.errors import ErrorCode, NotFound
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.signing.service import field_name
from workflow.states import Action, Status, refusal, transition_for
from workflow.views import DocumentView

__all__ = ["SigningOverview", "StepShown", "awaited_page_png", "signing_overview"]

#: The audit actions the page lists as the approval history (review and signatures).
STEPS: Final = (
    "document.submit",
    "document.approve",
    "document.request_changes",
    "document.request_signatures",
    "document.sign",
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StepShown:
    """One step of the approval history."""

    action: str
    """The audit action, e.g. ``document.approve``."""
    who: str
    function: str | None
    when: datetime
    version: int | None
    method: str | None
    """For a signature: ``key``, ``external`` or ``upload``."""
    signer: str | None
    """For a signature: the certificate's name."""


@dataclass(frozen=True)
class SigningOverview:
    document: DocumentView
    awaited_sha256: str | None
    """The PDF awaiting the next signature (``current_pdf_sha256``)."""
    awaited_size: int
    page_count: int
    """Pages of the awaited PDF shown as images (0 if they could not be made)."""
    my_turn: bool
    """Whether the reader is the next signatory and may sign now."""
    my_field: str | None
    """The reader's signature field when it is their turn (``podpis-<position>``)."""
    next_position: int | None
    """Position (1-based) of the next signatory, None when all have signed."""
    steps: list[StepShown]
    """The approval history, oldest first."""
    level: str
    """The PAdES level this installation signs at."""
    demo: bool
    """Demo mode: server-held demo keys without legal force."""


def signing_overview(rt: Runtime, *, actor: Actor, document_id: int) -> SigningOverview:
    """Everything the signature page shows; NotFound for a document the actor may not see."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        sha = doc.current_pdf_sha256
        ctx = guard_context(session, actor, doc, presented_pdf_sha256=sha)
        my_turn = (
            doc.status == Status.AWAITING_SIGNATURES
            and refusal(transition_for(Action.SIGN), ctx) is None
        )
        pending = [s for s in doc.signatories if s.signed_at is None]
        next_position = pending[0].position if pending else None
        records = audit_of(session, actor, doc.id)
        view = DocumentView.of(doc)
    steps = [
        StepShown(
            action=r["action"],
            who=r["actor"],
            function=r.get("actor_function"),
            when=datetime.fromisoformat(r["recorded_at"]),
            version=(r.get("payload") or {}).get("version"),
            method=(r.get("payload") or {}).get("method"),
            signer=(r.get("payload") or {}).get("signer"),
        )
        for r in records
        if r["action"] in STEPS
    ]
    pdf = rt.blobs.get(sha) if sha else b""
    return SigningOverview(
        document=view,
        awaited_sha256=sha,
        awaited_size=len(pdf),
        page_count=len(_page_files(rt, sha, pdf)) if sha else 0,
        my_turn=my_turn,
        my_field=field_name(next_position) if my_turn and next_position else None,
        next_position=next_position,
        steps=steps,
        level=rt.signing.level.value,
        demo=rt.signing.demo_pki is not None,
    )


def awaited_page_png(
    rt: Runtime, *, actor: Actor, document_id: int, sha256: str, page: int
) -> bytes:
    """Page ``page`` (1-based) of a PDF of the document as PNG: the one awaiting signature,
    or an earlier one of its signing (a page drawn before a signature was added)."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        known = {doc.frozen_pdf_sha256, doc.current_pdf_sha256}
        known |= {s.signed_pdf_sha256 for s in doc.signatories}
    if not _SHA256.fullmatch(sha256) or sha256 not in known:
        raise NotFound(ErrorCode.SIGNING_PDF_NOT_FOUND, sha256=sha256[:12], document_id=document_id)
    files = _page_files(rt, sha256, None)
    if not 1 <= page <= len(files):
        raise NotFound(ErrorCode.PAGE_NOT_FOUND, page=page)
    return files[page - 1].read_bytes()


def _cache_dir(rt: Runtime, sha256: str) -> Path:
    return rt.settings.var_dir / "cache" / "signing-pages" / sha256


def _page_files(rt: Runtime, sha256: str, pdf: bytes | None) -> list[Path]:
    """The cached PNGs of the PDF ``sha256``, made now if missing (written to a temporary
    folder, then renamed into place: a concurrent request sees all pages or none)."""
    folder = _cache_dir(rt, sha256)
    if not folder.is_dir():
        data = pdf if pdf is not None else rt.blobs.get(sha256)
        try:
            pages = pdf_pages_as_png(data)
        except Exception:  # page images are a convenience: the page still works
            return []
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        for n, png in enumerate(pages, start=1):
            (tmp / f"{n:03d}.png").write_bytes(png)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process made it first
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    return sorted(folder.glob("*.png"))
