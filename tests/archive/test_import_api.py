"""``POST /api/v1/archive/imports`` through the real app: archivists only, 201 then 200 for
the same file, 413/415/422 with their codes, metadata errors naming the field, a scan
queued for OCR."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.archive.import_pdfs import scan_pdf, signed_pdf, text_pdf
from tests.web.conftest import API, Login, app, clients, login  # noqa: F401  # their fixtures
from workflow.db import transaction
from workflow.jobs.queue import queue_of
from workflow.models.archive import ArchiveRecord
from workflow.runtime import Runtime

URL = f"{API}/archive/imports"
META = {
    "kind": "letter_of_intent",
    "title": "List intencyjny z Gminą Gaszowice (2018)",
    "jrwa_symbol": "0170",
    "category": "BE",
    "retention_years": 25,
    "case_closed_on": "2018-11-05",
    "parties": [{"name": "Gmina Gaszowice", "teryt": "2412022"}],
}


def _client(request: pytest.FixtureRequest, who: str) -> TestClient:
    """A client logged in as the demo person ``who`` (tests/web/conftest.py's ``login``)."""
    log_in: Login = request.getfixturevalue("login")
    return log_in(who)


@pytest.fixture
def archivist(request: pytest.FixtureRequest) -> TestClient:
    return _client(request, "archiwista")


def _records(rt: Runtime) -> int:
    with transaction(rt.read_sessions) as session:
        return int(session.scalar(select(func.count()).select_from(ArchiveRecord)) or 0)


def _post(
    client: TestClient, pdf: bytes, meta: object = None, name: str = "umowa.pdf"
) -> httpx.Response:
    data = {} if meta is None else {"meta": meta if isinstance(meta, str) else json.dumps(meta)}
    return client.post(URL, files={"file": (name, pdf, "application/pdf")}, data=data)


def test_archivist_imports_a_signed_agreement_once(archivist: TestClient, rt: Runtime) -> None:
    client = archivist
    pdf = signed_pdf(rt)

    first = _post(client, pdf, META, name="gaszowice.pdf")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["signature_status"] == "valid"
    assert body["already_archived"] is False
    assert body["title"] == META["title"]
    assert body["file_name"] == "gaszowice.pdf"

    again = _post(client, pdf, None, name="kopia.pdf")
    assert again.status_code == 200
    assert again.json()["already_archived"] is True
    assert again.json()["record_id"] == body["record_id"]
    assert _records(rt) == 1


def test_only_archivists_and_admins(request: pytest.FixtureRequest, rt: Runtime) -> None:
    r = _post(_client(request, "autor"), text_pdf())
    assert r.status_code == 403
    assert r.json()["code"] == "archive_needs_archivist"
    assert _records(rt) == 0


def test_refusals_have_their_status_and_code(archivist: TestClient, rt: Runtime) -> None:
    client = archivist
    limit = rt.settings.max_upload_bytes

    too_big = _post(client, b"%PDF-1.7\n" + b"0" * limit)
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "file_too_large"

    not_pdf = _post(client, b"PK\x03\x04 this is a zip", name="umowa.pdf")
    assert not_pdf.status_code == 415
    assert not_pdf.json()["code"] == "not_a_pdf"
    assert not_pdf.json()["field"] == "file"

    unreadable = _post(client, b"%PDF-1.7\n1 0 obj << broken")
    assert unreadable.status_code == 422
    assert unreadable.json()["code"] == "pdf_unreadable"

    bad_years = _post(client, text_pdf(), {**META, "category": "A"})
    assert bad_years.status_code == 422
    assert bad_years.json()["field"] == "retention_years"
    assert bad_years.json()["code"] == "archive_years_for_a"

    bad_teryt = _post(client, text_pdf(), {**META, "parties": [{"name": "X", "teryt": "99"}]})
    assert bad_teryt.status_code == 422, bad_teryt.text
    assert bad_teryt.json()["field"] == "parties[1].teryt"

    not_json = _post(client, text_pdf(), "{kind: umowa")
    assert not_json.status_code == 422
    assert not_json.json()["field"] == "meta"
    assert not_json.json()["code"] == "archive_meta_not_json"

    assert _records(rt) == 0


def test_a_scan_is_stored_and_its_ocr_queued(archivist: TestClient, rt: Runtime) -> None:
    r = _post(archivist, scan_pdf(), name="skan.pdf")

    assert r.status_code == 201, r.text
    assert r.json()["text_status"] == "ocr_pending"
    waiting = [j for j in queue_of(rt).list_jobs(state="todo") if j.name == "archive.ocr"]
    assert len(waiting) == 1
