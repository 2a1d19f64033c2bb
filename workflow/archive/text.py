"""The words of an archived PDF: its text layer, or what OCR reads on a scan.

Text layer: ``pdftotext`` (poppler-utils), one subprocess per file, the PDF on its stdin.
Measured on the two-page Polish sample letter (tests/signatures/sample.py), 2 cores:
7.2 ms per file including the process start, so text extraction costs an import about
a tenth of its 100 ms budget (10 PDFs/s). No library among the dependencies extracts text:
pikepdf parses content streams (1.3 ms to count the text operators of the same file) but
their strings are glyph ids of subset fonts; decoding them through each font's ToUnicode
map is what poppler already does, correctly, for every PDF producer.

A scan has no text layer, or almost none (a page number, a stamp): :func:`needs_ocr`
says so when at least half of the pages have fewer than ``MIN_PAGE_CHARS`` letters or
digits. Such a file is OCRed in a job (``workflow.jobs.handlers.ocr``) by :func:`ocr_text`:
``ocrmypdf -l pol`` (Tesseract's Polish data) writes an OCRed *copy* to a temporary
folder, its text layer is read as above, and the copy is deleted: the record stays the
file as received (the copy is not evidence of anything). The text read by OCR is kept as
a blob (``text/plain; charset=utf-8``) named in the ``archive.ocr_done`` audit record;
:func:`record_text` finds it again (for the search index, and its rebuild).

:func:`read_scan` is the job's use-case: OCR a record whose ``text_status`` is
``ocr_pending`` and move it to ``ocr_done`` (text kept, audited, indexed) or, when told it
was the last attempt, to ``ocr_failed`` (the reason audited). A record in any other state
is left alone, so a second run does nothing.

Errors: :class:`TextUnavailable` (the tool failed, timed out or is missing), with the
reason in one line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pikepdf
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow import audit
from workflow.db import transaction
from workflow.errors import ErrorCode, NotFound
from workflow.models import AuditRecord
from workflow.models.archive import ArchiveRecord
from workflow.runtime import Runtime
from workflow.search.index import REINDEXERS, IndexEntry, IndexParty, index_entry
from workflow.storage.blobs import BlobCorrupted, BlobStore

__all__ = [
    "MIN_PAGE_CHARS",
    "OCR_DONE_ACTION",
    "OCR_FAILED_ACTION",
    "PdfText",
    "ScanOutcome",
    "TextUnavailable",
    "extract_text",
    "index_record",
    "needs_ocr",
    "ocr_text",
    "pages_drawing_text",
    "read_scan",
    "record_entry",
    "record_text",
    "register_reindexer",
    "reindex_imported",
]

log = logging.getLogger(__name__)

MIN_PAGE_CHARS: Final = 40
"""Letters and digits a page needs to count as having text (a page number or a date
stamp on a scanned page stays under it; a typed page of an agreement is far above it)."""

PDFTOTEXT_TIMEOUT_S: Final = 60.0
MAX_TEXT_CHARS: Final = 5_000_000
"""Text beyond this is cut (an agreement has some 10,000 characters a page)."""

OCR_LANGUAGE: Final = "pol"
OCR_DONE_ACTION: Final = "archive.ocr_done"
"""The audit action recording OCR's result; its payload names the text blob."""
TEXT_MEDIA_TYPE: Final = "text/plain; charset=utf-8"


class TextUnavailable(Exception):
    """pdftotext or ocrmypdf failed, timed out or is not installed; ``str()`` says why."""


@dataclass(frozen=True)
class PdfText:
    """The text layer of a PDF, page by page."""

    pages: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(p.strip() for p in self.pages if p.strip())

    @property
    def page_chars(self) -> tuple[int, ...]:
        """Letters and digits per page."""
        return tuple(sum(c.isalnum() for c in page) for page in self.pages)


def needs_ocr(text: PdfText, drawn: tuple[bool, ...] | None = None) -> bool:
    """Whether the PDF looks like a scan: at least half of its pages (or all, if it has
    none) without text of their own — fewer than ``MIN_PAGE_CHARS`` letters and digits,
    or (``drawn``, from :func:`pages_drawing_text`) no text drawn by the page itself: the
    stamp of a signature made on a scanned page is text in an annotation, not the page's."""
    counts = text.page_chars
    if not counts:
        return True
    if drawn is not None and len(drawn) == len(counts):
        bare = sum(1 for n, d in zip(counts, drawn, strict=True) if n < MIN_PAGE_CHARS or not d)
    else:
        bare = sum(1 for n in counts if n < MIN_PAGE_CHARS)
    return bare * 2 >= len(counts)


_TEXT_OPERATORS = frozenset({"Tj", "TJ", "'", '"'})


def pages_drawing_text(pdf: bytes) -> tuple[bool, ...] | None:
    """For each page, whether its content (and the forms it draws, two levels deep) shows
    text; annotations (a signature's stamp) are not looked at. None if pikepdf cannot
    tell (the character counts decide alone). About 1 ms a page."""
    import io

    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            return tuple(_draws_text(page.obj, depth=0) for page in doc.pages)
    except (pikepdf.PdfError, ValueError, TypeError, AttributeError, KeyError):
        return None


def _draws_text(holder: pikepdf.Object, *, depth: int) -> bool:
    """Whether the content of a page or form XObject ``holder`` shows text."""
    forms: list[pikepdf.Object] = []
    resources = holder.get("/Resources")
    xobjects = resources.get("/XObject") if resources is not None else None
    for instruction in pikepdf.parse_content_stream(holder):
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            continue
        operands, name = instruction.operands, str(instruction.operator)
        if name in _TEXT_OPERATORS:
            return True
        if name == "Do" and depth < 2 and xobjects is not None and operands:
            form = xobjects.get(str(operands[0]))
            if form is not None and form.get("/Subtype") == "/Form":
                forms.append(form)
    return any(_draws_text(form, depth=depth + 1) for form in forms)


def _run(command: list[str], *, stdin: bytes | None, timeout_s: float) -> bytes:
    """Run ``command`` in a session of its own, so that a timeout stops it and everything
    it started (ocrmypdf's Tesseract and Ghostscript processes), not only itself."""
    tool = command[0]
    if shutil.which(tool) is None:
        raise TextUnavailable(f"{tool} is not installed (scripts/system-packages.sh)")
    with subprocess.Popen(  # noqa: S603  # a fixed tool, arguments we build
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(stdin, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise TextUnavailable(f"{tool} took longer than {timeout_s:.0f} s") from None
    if process.returncode != 0:
        reason = " ".join(err.decode("utf-8", "replace").split())[-300:]
        raise TextUnavailable(f"{tool} exited with {process.returncode}: {reason or 'no message'}")
    return out


def extract_text(
    pdf: bytes, *, timeout_s: float = PDFTOTEXT_TIMEOUT_S, raw: bool = False
) -> PdfText:
    """The text layer of ``pdf`` (``pdftotext``, UTF-8), page by page: in reading order as
    poppler reconstructs it, or (``raw``) in the order of the content streams, which is
    the right one for a layer OCR wrote line by line (poppler's reconstruction splits its
    lines into columns of words)."""
    mode = ["-raw"] if raw else []
    command = ["pdftotext", *mode, "-enc", "UTF-8", "-q", "-", "-"]
    out = _run(command, stdin=pdf, timeout_s=timeout_s)
    text = out.decode("utf-8", "replace")[:MAX_TEXT_CHARS]
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()  # pdftotext ends every page with a form feed
    return PdfText(tuple(pages))


def ocr_text(pdf: bytes, *, timeout_s: float, language: str = OCR_LANGUAGE) -> PdfText:
    """OCR ``pdf`` with ocrmypdf into a temporary copy and return the copy's text layer.

    Every page is rasterised and read (``--force-ocr``: a page number in a text layer does
    not make a scanned page readable). Signatures are removed from the temporary copy
    first, since ocrmypdf refuses to change a signed PDF; the copy is never kept."""
    with tempfile.TemporaryDirectory(prefix="estrategia-ocr-") as folder:
        source, target = Path(folder) / "in.pdf", Path(folder) / "out.pdf"
        source.write_bytes(_without_signatures(pdf))
        command = [
            "ocrmypdf", "-l", language, "--force-ocr", "--output-type", "pdf",
            "--optimize", "0", "--quiet", str(source), str(target),
        ]  # fmt: skip
        _run(command, stdin=None, timeout_s=timeout_s)
        return extract_text(target.read_bytes(), raw=True)


def _without_signatures(pdf: bytes) -> bytes:
    """A copy of ``pdf`` without its form (signature fields and their widgets) and DocMDP
    permissions."""
    import io

    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            root = doc.Root
            for key in ("/AcroForm", "/Perms"):
                if key in root:
                    del root[key]
            for page in doc.pages:  # the fields' widgets (a signature's stamp) go too
                annots = page.obj.get("/Annots")
                if annots is not None:
                    kept = [a for a in annots if a.get("/Subtype") != "/Widget"]
                    page.obj.Annots = pikepdf.Array(kept)
            out = io.BytesIO()
            doc.save(out)
            return out.getvalue()
    except pikepdf.PdfError as exc:
        raise TextUnavailable(f"the PDF could not be opened for OCR: {exc}") from exc


def store_ocr_text(session: Session, blobs: BlobStore, text: str) -> str:
    """Keep ``text`` write-once in the blob store; its sha256."""
    from workflow.storage.blobs import store_file

    return store_file(session, blobs, text.encode("utf-8"), TEXT_MEDIA_TYPE)


def record_text(session: Session, blobs: BlobStore, record: ArchiveRecord) -> str:
    """The words of an archived record for the index: the PDF's text layer, or for a
    record read by OCR the text that OCR produced ("" when there is none yet)."""
    if record.text_status == "ocr_done":
        sha = _ocr_text_sha(session, record.id)
        return blobs.get(sha).decode("utf-8") if sha else ""
    if record.text_status in ("ocr_pending", "ocr_failed", "none"):
        return ""
    try:
        return extract_text(blobs.get(record.pdf_sha256)).text
    except TextUnavailable as exc:
        log.warning("archive record %s: no text: %s", record.id, exc)
        return ""


def _ocr_text_sha(session: Session, record_id: int) -> str | None:
    """The text blob of the last ``archive.ocr_done`` record of ``record_id``."""
    rows = session.scalars(
        select(AuditRecord.payload)
        .where(AuditRecord.action == OCR_DONE_ACTION)
        .order_by(AuditRecord.seq.desc())
    )
    for payload in rows:
        data = json.loads(payload)
        if data.get("archive_record_id") == record_id:
            sha = data.get("text_sha256")
            return sha if isinstance(sha, str) else None
    return None


OCR_FAILED_ACTION: Final = "archive.ocr_failed"


@dataclass(frozen=True)
class ScanOutcome:
    """What :func:`read_scan` did."""

    status: str
    """The record's ``text_status`` afterwards ("ocr_done", "ocr_failed", or the status
    it had when there was nothing to do)."""
    chars: int = 0
    """Characters OCR read."""
    reason: str | None = None


def read_scan(rt: Runtime, record_id: int, *, timeout_s: float, last_attempt: bool) -> ScanOutcome:
    """OCR the archived record ``record_id`` if it waits for OCR (see the module
    docstring); ``TextUnavailable`` when OCR failed and ``last_attempt`` is false (the
    job retries), else the failure is recorded."""
    with transaction(rt.read_sessions) as session:
        record = session.get(ArchiveRecord, record_id)
        if record is None:
            raise NotFound(ErrorCode.NOT_FOUND, what=f"archive record {record_id}")
        if record.text_status != "ocr_pending" or record.disposed_at is not None:
            return ScanOutcome(record.text_status)
        sha = record.pdf_sha256
    try:
        text = ocr_text(_archived_file(rt.blobs, sha), timeout_s=timeout_s).text
    except TextUnavailable as exc:
        if not last_attempt:
            raise
        return _ocr_failed(rt, record_id, str(exc))
    with transaction(rt.sessions) as session:
        text_sha = store_ocr_text(session, rt.blobs, text)
        if not _move(session, record_id, "ocr_done"):
            return ScanOutcome(_status(session, record_id))
        audit.append(
            session,
            action=OCR_DONE_ACTION,
            actor_id=None,
            actor="system",
            payload={"archive_record_id": record_id, "text_sha256": text_sha, "chars": len(text)},
        )
        record = session.get(ArchiveRecord, record_id)
        assert record is not None  # noqa: S101  # moved above, never deleted (migration 0009)
        index_record(session, rt, record, text)
    return ScanOutcome("ocr_done", chars=len(text))


def _archived_file(blobs: BlobStore, sha256: str) -> bytes:
    """The record's file; one that is damaged or missing cannot be read (``archive
    verify`` reports it), which ends its OCR like any other failure."""
    try:
        return blobs.get(sha256)
    except (BlobCorrupted, FileNotFoundError) as exc:
        raise TextUnavailable(f"the archived file cannot be read: {exc}") from exc


def _ocr_failed(rt: Runtime, record_id: int, reason: str) -> ScanOutcome:
    log.warning("archive record %s: OCR failed: %s", record_id, reason)
    with transaction(rt.sessions) as session:
        if not _move(session, record_id, "ocr_failed"):
            return ScanOutcome(_status(session, record_id))
        audit.append(
            session,
            action=OCR_FAILED_ACTION,
            actor_id=None,
            actor="system",
            payload={"archive_record_id": record_id, "reason": reason},
        )
    return ScanOutcome("ocr_failed", reason=reason)


def _move(session: Session, record_id: int, status: str) -> bool:
    """``ocr_pending`` -> ``status`` unless another run moved it first."""
    result = session.execute(
        update(ArchiveRecord)
        .where(ArchiveRecord.id == record_id, ArchiveRecord.text_status == "ocr_pending")
        .values(text_status=status)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def _status(session: Session, record_id: int) -> str:
    return session.scalars(
        select(ArchiveRecord.text_status).where(ArchiveRecord.id == record_id)
    ).one()


def index_record(session: Session, rt: Runtime, record: ArchiveRecord, text: str) -> None:
    """Put ``record`` with ``text`` into the search index, in the caller's transaction."""
    index_entry(session, record_entry(record, text))


def record_entry(record: ArchiveRecord, text: str) -> IndexEntry:
    """The index entry of an imported record: its metadata, signatories and ``text``."""
    return IndexEntry(
        title=record.title,
        text=text,
        kind=record.kind,
        archive_record_id=record.id,
        owner_organisation_id=record.owner_organisation_id,
        status="archived",
        file_name=record.file_name,
        year=record.case_closed_on.year,
        jrwa_symbol=record.jrwa_symbol,
        category=record.category,
        parties=tuple(IndexParty(p.name, p.teryt, p.voivodeship) for p in record.parties),
        signatories=tuple(dict.fromkeys(s.signer_name for s in record.signatures)),
    )


def reindex_imported(session: Session, blobs: BlobStore) -> Iterator[int]:
    """Index every imported record again (``search.index.REINDEXERS``), one yield each."""
    ids = session.scalars(
        select(ArchiveRecord.id)
        .where(ArchiveRecord.source == "import", ArchiveRecord.disposed_at.is_(None))
        .order_by(ArchiveRecord.id)
    ).all()
    for record_id in ids:
        record = session.get(ArchiveRecord, record_id)
        if record is not None:
            index_entry(session, record_entry(record, record_text(session, blobs, record)))
            yield record_id


def register_reindexer() -> None:
    """Make ``search.index.reindex`` rebuild the entries of imported records too (once)."""
    if reindex_imported not in REINDEXERS:
        REINDEXERS.append(reindex_imported)
