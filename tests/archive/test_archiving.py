"""Archiving the signed Rybnik letter: the ARCHIVE transition and its record together, with
parties (TERYT), signatories, PAdES level, the frozen audit extract and validation report."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.archive.helpers import signed_letter
from workflow import audit
from workflow.archive.archiving import archive_document
from workflow.archive.store import read_json
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.errors import InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord, Document
from workflow.runtime import Runtime
from workflow.search.query import search
from workflow.states import Status


def test_the_signed_letter_is_archived_with_its_evidence(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    doc_id = signed_letter(rt, actors, demo)
    record_id = archive_document(
        rt, actor=actors["archiwista"], document_id=doc_id,
        meta_overrides={"category": "B", "retention_years": 10, "jrwa_symbol": "0172"},
    )  # fmt: skip
    with transaction(rt.read_sessions) as s:
        doc = s.get(Document, doc_id)
        record = s.get(ArchiveRecord, record_id)
        assert doc is not None and record is not None
        assert doc.status == Status.ARCHIVED
        assert record.pdf_sha256 == doc.current_pdf_sha256
        assert record.source == "workflow" and record.document_id == doc_id
        assert record.signature_status == "valid" and record.pades_level == "B-LTA"
        assert (record.category, record.retention_years, record.jrwa_symbol) == ("B", 10, "0172")
        closed = record.case_closed_on
        assert record.retention_ends_on == date(closed.year + 11, 1, 1)
        assert [(p.name, p.teryt, p.voivodeship) for p in record.parties] == [
            ("Izba Gospodarki Elektronicznej", None, None),
            ("Miasto Rybnik", "2473011", "śląskie"),
        ]
        assert [s.signer_name for s in record.signatures] == [
            "Patrycja Sass-Staniszewska",
            "Piotr Kuczera",
        ]
        assert all(sig.signed_at is not None for sig in record.signatures)
        assert record.signatures[-1].signed_at is not None
        trail = audit.export(s, document_id=doc_id)
        assert audit.verify(s).ok
        extract_sha, report_sha = record.audit_extract_sha256, record.validation_report_sha256
        pdf_sha = record.pdf_sha256
    assert [r["action"] for r in trail][-2:] == ["archive.record", "document.archive"]
    assert trail[-1]["payload"]["archive_record_id"] == record_id
    extract = read_json(rt, extract_sha)["audit_records"]
    assert [r["action"] for r in extract][-1] == "document.sign"
    report = read_json(rt, report_sha)
    assert report["sha256"] == pdf_sha and report["valid"] is True
    with transaction(rt.read_sessions) as s:
        found = search(s, "Rybniku", {"jrwa": ["0172"]}, actor=actors["archiwista"])
    assert [(r.document_id, r.archive_record_id) for r in found.results] == [(doc_id, record_id)]


def test_the_default_metadata_comes_from_the_scheme_and_the_signing_date(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    doc_id = signed_letter(rt, actors, demo)
    record_id = archive_document(rt, actor=actors["archiwista"], document_id=doc_id)
    with transaction(rt.read_sessions) as s:
        record = s.get(ArchiveRecord, record_id)
        assert record is not None
        scheme = rt.settings.archive.scheme["letter_of_intent"]
        assert (record.jrwa_symbol, record.category) == (scheme.jrwa_symbol, scheme.category)
        assert record.retention_ends_on is None  # category A: kept forever
        last_signed = max(sig.signed_at for sig in record.signatures if sig.signed_at)
        assert abs((record.case_closed_on - last_signed.date()).days) <= 1


def test_bad_metadata_archives_nothing(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    doc_id = signed_letter(rt, actors, demo)
    with pytest.raises(InvalidInput) as caught:
        archive_document(
            rt, actor=actors["archiwista"], document_id=doc_id,
            meta_overrides={"category": "B"},
        )  # fmt: skip
    assert caught.value.field == "retention_years"
    with transaction(rt.read_sessions) as s:
        assert s.scalar(select(func.count()).select_from(ArchiveRecord)) == 0
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.status == Status.SIGNED


def test_only_the_archivist_archives_and_only_a_signed_document(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    doc_id = signed_letter(rt, actors, demo)
    with pytest.raises(NotPermitted):
        archive_document(rt, actor=actors["autor"], document_id=doc_id)
    with pytest.raises(NotFound):
        archive_document(rt, actor=actors["wojt"], document_id=doc_id)
    archive_document(rt, actor=actors["archiwista"], document_id=doc_id)
    with pytest.raises(TransitionNotAllowed):
        archive_document(rt, actor=actors["archiwista"], document_id=doc_id)
