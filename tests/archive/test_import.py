"""Importing agreements signed before this system: a signed one, an unsigned one, one whose
signature was broken, refusals by their bytes, metadata naming its wrong field, and the same
file twice stored once. Each on SQLite and PostgreSQL; the signatures are made with the
test PKI and validated for real."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from signatures import validate_pdf
from tests.archive.import_pdfs import scan_pdf, signed_pdf, text_pdf
from tests.signatures.tamper import add_page_text, flip_byte_in_signed_content
from workflow.archive.importing import import_pdf
from workflow.archive.text import record_text
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.errors import ErrorCode, InvalidInput, NotPermitted
from workflow.identity.actors import Actor
from workflow.models import AuditRecord, StoredFile
from workflow.models.archive import ArchiveRecord, ArchiveSignature
from workflow.runtime import Runtime
from workflow.storage.blobs import sha256_hex

META = {
    "kind": "letter_of_intent",
    "title": "List intencyjny z Miastem Rybnik (2019)",
    "jrwa_symbol": "0173",
    "category": "B",
    "retention_years": 10,
    "case_closed_on": "2019-05-20",
    "parties": [
        {"name": "Izba Gospodarki Elektronicznej"},
        {"name": "Miasto Rybnik", "teryt": "2473011"},
    ],
}


def _record(rt: Runtime, record_id: int) -> ArchiveRecord:
    with transaction(rt.read_sessions) as session:
        record = session.get(ArchiveRecord, record_id)
        assert record is not None
        session.expunge(record)
        return record


def _count(rt: Runtime, model: type) -> int:
    with transaction(rt.read_sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_signed_agreement_is_archived_valid_with_its_metadata(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    pdf = signed_pdf(rt)
    assert validate_pdf(pdf, trust=rt.signing.trust).valid  # what we import is really valid

    out = import_pdf(
        rt, pdf=pdf, file_name="rybnik-2019.pdf", meta=META, actor=actors["archiwista"]
    )

    assert not out.already_archived
    assert out.signature_status == "valid"
    assert out.pades_level == "B-LT"
    assert out.text_status == "text"
    record = _record(rt, out.record_id)
    assert record.source == "import"
    assert record.document_id is None
    assert record.pdf_sha256 == sha256_hex(pdf)
    assert rt.blobs.get(record.pdf_sha256) == pdf  # the file as received, write-once
    assert record.category == "B"
    assert str(record.retention_ends_on) == "2030-01-01"
    assert record.owner_organisation_id == demo.organisations["eizba"]
    assert record.archived_by_id == actors["archiwista"].user_id
    with transaction(rt.read_sessions) as session:
        signer = session.scalars(
            select(ArchiveSignature.signer_name).where(ArchiveSignature.record_id == record.id)
        ).all()
        audit = session.scalars(
            select(AuditRecord.payload).where(AuditRecord.action == "archive.record")
        ).all()
        stored = session.get(ArchiveRecord, record.id)
        assert stored is not None
        assert "w Rybniku" in record_text(session, rt.blobs, stored)
    assert signer == [rt.signing.demo_pki.signatory("prezes").full_name]  # type: ignore[union-attr]
    assert [json.loads(p)["record_id"] for p in audit] == [record.id]


def test_unsigned_pdf_is_accepted_and_marked_unsigned_with_defaults(
    rt: Runtime, demo: DemoIds
) -> None:
    out = import_pdf(
        rt, pdf=text_pdf(), file_name="C:\\skany\\porozumienie.pdf", meta=None, actor=None
    )

    assert out.signature_status == "unsigned"
    assert out.pades_level is None
    record = _record(rt, out.record_id)
    assert record.file_name == "porozumienie.pdf"  # the name only, never a client's path
    assert record.title == "porozumienie"  # no /Title in the PDF: the file name
    assert record.kind == "agreement"
    scheme = next(iter(rt.settings.archive.scheme.values()))  # no scheme for "agreement"
    assert (record.jrwa_symbol, record.category) == (scheme.jrwa_symbol, scheme.category)
    assert record.retention_years == scheme.retention_years
    assert record.owner_organisation_id == demo.organisations["eizba"]  # the system: head office
    assert record.archived_by_id is None


@pytest.mark.parametrize(
    "tamper",
    [flip_byte_in_signed_content, add_page_text],
)
def test_broken_signature_is_accepted_as_invalid_with_the_report_kept(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor], tamper: object
) -> None:
    assert callable(tamper)
    pdf = tamper(signed_pdf(rt))
    assert not validate_pdf(pdf, trust=rt.signing.trust).valid

    out = import_pdf(rt, pdf=pdf, file_name="zmieniony.pdf", meta=None, actor=actors["archiwista"])

    assert out.signature_status == "invalid"
    assert out.problems  # said why
    record = _record(rt, out.record_id)
    report = json.loads(rt.blobs.get(record.validation_report_sha256))
    assert report["valid"] is False
    assert report["sha256"] == sha256_hex(pdf)


def test_same_file_twice_is_stored_once(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    pdf = text_pdf()
    first = import_pdf(rt, pdf=pdf, file_name="a.pdf", meta=None, actor=actors["archiwista"])
    files, audits = _count(rt, StoredFile), _count(rt, AuditRecord)

    again = import_pdf(rt, pdf=pdf, file_name="b.pdf", meta=META, actor=actors["archiwista"])

    assert again.already_archived
    assert again.record_id == first.record_id
    assert again.file_name == "a.pdf"
    assert _count(rt, ArchiveRecord) == 1
    assert (_count(rt, StoredFile), _count(rt, AuditRecord)) == (files, audits)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDX-1.7 not a pdf", ErrorCode.NOT_A_PDF),
        (b"PK\x03\x04 a zip called umowa.pdf", ErrorCode.NOT_A_PDF),
        (b"%PDF-1.7\n1 0 obj << garbage", ErrorCode.PDF_UNREADABLE),
    ],
)
def test_not_a_pdf_is_refused_and_nothing_stored(
    rt: Runtime, demo: DemoIds, data: bytes, code: ErrorCode
) -> None:
    files = _count(rt, StoredFile)
    with pytest.raises(InvalidInput) as caught:
        import_pdf(rt, pdf=data, file_name="umowa.pdf", meta=None, actor=None)
    assert caught.value.field == "file"
    assert caught.value.code == code
    assert (_count(rt, ArchiveRecord), _count(rt, StoredFile)) == (0, files)


def test_too_big_is_refused_by_the_upload_limit(rt: Runtime, demo: DemoIds) -> None:
    limit = rt.settings.max_upload_bytes
    with pytest.raises(InvalidInput) as caught:
        import_pdf(rt, pdf=b"%PDF-1.7\n" + b"0" * limit, file_name="x.pdf", meta=None, actor=None)
    assert caught.value.code == ErrorCode.FILE_TOO_LARGE
    assert caught.value.params["limit"] == limit
    assert _count(rt, ArchiveRecord) == 0


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"category": "C"}, "category", ErrorCode.ARCHIVE_CATEGORY_UNKNOWN),
        ({"retention_years": None}, "retention_years", ErrorCode.ARCHIVE_YEARS_REQUIRED),
        ({"category": "A", "retention_years": 5}, "retention_years", ErrorCode.ARCHIVE_YEARS_FOR_A),
        ({"case_closed_on": "2019-02-30"}, "case_closed_on", ErrorCode.NOT_A_CALENDAR_DATE),
        ({"parties": [{"name": "X", "teryt": "99"}]}, "parties[1].teryt", ErrorCode.TERYT_INVALID),
        ({"colour": "red"}, "colour", ErrorCode.UNKNOWN_FIELD),
    ],
)  # fmt: skip
def test_bad_metadata_names_the_field_and_stores_nothing(
    rt: Runtime, demo: DemoIds, change: dict[str, object], field: str, code: ErrorCode
) -> None:
    files = _count(rt, StoredFile)
    with pytest.raises(InvalidInput) as caught:
        import_pdf(rt, pdf=text_pdf(), file_name="x.pdf", meta={**META, **change}, actor=None)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert (_count(rt, ArchiveRecord), _count(rt, StoredFile)) == (0, files)


def test_only_archivists_and_admins_import(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    with pytest.raises(NotPermitted):
        import_pdf(rt, pdf=text_pdf(), file_name="x.pdf", meta=None, actor=actors["autor"])
    assert _count(rt, ArchiveRecord) == 0


def test_scan_waits_for_ocr(rt: Runtime, demo: DemoIds) -> None:
    out = import_pdf(rt, pdf=scan_pdf(), file_name="skan.pdf", meta=None, actor=None)

    assert out.text_status == "ocr_pending"
    assert out.needs_ocr
    assert out.signature_status == "unsigned"


def test_an_imported_agreement_is_found_by_polish_search(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    from workflow.search.query import search_in

    out = import_pdf(rt, pdf=text_pdf(), file_name="rybnik.pdf", meta=META, actor=None)

    page = search_in(rt, "Rybnik", {"category": ["B"]}, actor=actors["archiwista"])
    assert [r.archive_record_id for r in page.results] == [out.record_id]  # "w Rybniku"
    assert page.results[0].file_name == "rybnik.pdf"
    nothing = search_in(rt, "Gliwice", actor=actors["archiwista"])
    assert nothing.results == []
