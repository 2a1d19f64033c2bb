"""A scanned agreement (an image-only PDF) imported, then read by the ``archive.ocr`` job
with ocrmypdf and Tesseract's Polish data through the real queue: its words come out and
reach the search index, its record stays the file as received, a second run does nothing,
and a failed OCR ends as ``ocr_failed`` with its reason."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from signatures import validate_pdf
from tests.archive.import_pdfs import scan_pdf, signed_pdf, text_pdf
from tests.jobs.outbox_helpers import audit_actions, run_jobs
from workflow.archive.importing import import_pdf
from workflow.archive.text import (
    MIN_PAGE_CHARS,
    OCR_DONE_ACTION,
    OCR_FAILED_ACTION,
    extract_text,
    needs_ocr,
    pages_drawing_text,
    read_scan,
    record_text,
)
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.jobs.handlers.ocr import queue_ocr, queue_waiting
from workflow.models.archive import ArchiveRecord
from workflow.models.search import SearchEntry
from workflow.runtime import Runtime
from workflow.storage.blobs import FileBlobStore, sha256_hex


def _record(rt: Runtime, record_id: int) -> ArchiveRecord:
    with transaction(rt.read_sessions) as session:
        record = session.get(ArchiveRecord, record_id)
        assert record is not None
        session.expunge(record)
        return record


def test_scan_detection_by_letters_per_page() -> None:
    assert needs_ocr(extract_text(scan_pdf()))
    assert needs_ocr(extract_text(text_pdf("Strona 1", "Strona 2")))  # page numbers only
    assert not needs_ocr(extract_text(text_pdf()))


def test_ocr_job_reads_the_scan_in_polish_and_keeps_the_original(
    rt: Runtime, demo: DemoIds
) -> None:
    scan = scan_pdf()
    out = import_pdf(rt, pdf=scan, file_name="skan-rybnik.pdf", meta=None, actor=None)
    assert out.text_status == "ocr_pending"

    queue_ocr(rt, out.record_id)
    run_jobs(rt)

    record = _record(rt, out.record_id)
    assert record.text_status == "ocr_done"
    assert record.pdf_sha256 == sha256_hex(scan)  # the record is still the scan as received
    assert rt.blobs.get(record.pdf_sha256) == scan
    with transaction(rt.read_sessions) as session:
        text = record_text(session, rt.blobs, record)
        body = session.scalars(
            select(SearchEntry.body).where(SearchEntry.archive_record_id == record.id)
        ).one()
    for word in ("w Rybniku", "Prezydenta Miasta Rybnika", "e-strategii", "śląskiego"):
        assert word in text, word
    assert "Rybniku" in body  # indexed for search
    (done,) = audit_actions(rt, OCR_DONE_ACTION)
    payload = json.loads(done.payload)
    assert payload["archive_record_id"] == record.id
    assert rt.blobs.get(payload["text_sha256"]).decode("utf-8") == text

    # A second run (delivery is at least once) finds it done and changes nothing.
    again = read_scan(rt, record.id, timeout_s=60, last_attempt=True)
    assert again.status == "ocr_done"
    assert len(audit_actions(rt, OCR_DONE_ACTION)) == 1


def test_ocr_that_fails_on_its_last_attempt_is_recorded_failed(rt: Runtime, demo: DemoIds) -> None:
    out = import_pdf(rt, pdf=scan_pdf(), file_name="skan.pdf", meta=None, actor=None)

    # Too little time for ocrmypdf: the tool is stopped and the attempt fails for real.
    outcome = read_scan(rt, out.record_id, timeout_s=0.05, last_attempt=True)

    assert outcome.status == "ocr_failed"
    assert outcome.reason is not None and "ocrmypdf" in outcome.reason
    assert _record(rt, out.record_id).text_status == "ocr_failed"
    (failed,) = audit_actions(rt, OCR_FAILED_ACTION)
    assert json.loads(failed.payload)["archive_record_id"] == out.record_id


def test_sweep_queues_scans_left_waiting(rt: Runtime, demo: DemoIds) -> None:
    out = import_pdf(rt, pdf=scan_pdf(), file_name="skan.pdf", meta=None, actor=None)
    import_pdf(rt, pdf=text_pdf(), file_name="tekst.pdf", meta=None, actor=None)

    assert queue_waiting(rt) == 0  # archived just now: its own job may still be coming
    assert queue_waiting(rt, older_than=timedelta(0)) == 1
    run_jobs(rt)

    assert _record(rt, out.record_id).text_status == "ocr_done"


def test_reindex_rebuilds_imported_records_with_their_ocr_text(rt: Runtime, demo: DemoIds) -> None:
    import workflow.archive  # noqa: F401  # registers the imported records' reindexer
    from workflow.search.index import reindex

    scan = import_pdf(rt, pdf=scan_pdf(), file_name="skan.pdf", meta=None, actor=None)
    text = import_pdf(rt, pdf=text_pdf(), file_name="tekst.pdf", meta=None, actor=None)
    read_scan(rt, scan.record_id, timeout_s=300, last_attempt=True)
    with transaction(rt.sessions) as session:
        session.execute(delete(SearchEntry).where(SearchEntry.archive_record_id.is_not(None)))

    reindex(rt)

    with transaction(rt.read_sessions) as session:
        bodies = dict(
            session.execute(
                select(SearchEntry.archive_record_id, SearchEntry.body).where(
                    SearchEntry.archive_record_id.is_not(None)
                )
            ).all()
        )
    assert "Prezydenta Miasta Rybnika" in bodies[scan.record_id]  # read by OCR, kept
    assert "Zażółć gęślą jaźń" in bodies[text.record_id]  # the text layer, read again


def test_a_signed_scan_is_read_and_stays_signed(rt: Runtime, demo: DemoIds) -> None:
    signed_scan = signed_pdf(rt, scan_pdf())  # scanned on paper, then signed elsewhere
    out = import_pdf(rt, pdf=signed_scan, file_name="skan-podpisany.pdf", meta=None, actor=None)
    assert (out.signature_status, out.text_status) == ("valid", "ocr_pending")

    # ocrmypdf refuses a signed PDF: its temporary copy goes without the signature.
    outcome = read_scan(rt, out.record_id, timeout_s=300, last_attempt=True)

    assert outcome.status == "ocr_done", outcome.reason
    record = _record(rt, out.record_id)
    assert rt.blobs.get(record.pdf_sha256) == signed_scan
    assert validate_pdf(signed_scan, trust=rt.signing.trust).valid
    with transaction(rt.read_sessions) as session:
        assert "w Rybniku" in record_text(session, rt.blobs, record)


def test_a_signature_stamp_on_a_scan_is_not_a_text_layer(rt: Runtime) -> None:
    signed_scan = signed_pdf(rt, scan_pdf())
    found = extract_text(signed_scan)
    assert "Podpisano elektronicznie" in found.text  # the stamp's words are there...
    assert found.page_chars[0] >= MIN_PAGE_CHARS
    assert pages_drawing_text(signed_scan) == (False,)  # ...but not drawn by the page
    assert needs_ocr(found, pages_drawing_text(signed_scan))
    signed_letter = signed_pdf(rt)
    assert not needs_ocr(extract_text(signed_letter), pages_drawing_text(signed_letter))


def test_a_scan_whose_file_was_damaged_ends_ocr_failed(rt: Runtime, demo: DemoIds) -> None:
    if not isinstance(rt.blobs, FileBlobStore):
        pytest.skip("the filesystem store")
    scan = scan_pdf()
    out = import_pdf(rt, pdf=scan, file_name="skan.pdf", meta=None, actor=None)
    path = rt.blobs.root / out.sha256[:2] / out.sha256[2:]
    os.chmod(path, 0o600)
    path.write_bytes(scan[:-10])  # cut short: no longer the archived bytes

    outcome = read_scan(rt, out.record_id, timeout_s=60, last_attempt=True)

    assert outcome.status == "ocr_failed"
    assert outcome.reason is not None and "cannot be read" in outcome.reason
    assert _record(rt, out.record_id).text_status == "ocr_failed"
