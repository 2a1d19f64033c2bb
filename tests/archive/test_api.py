"""The archive over HTTP: archiving with the archivist's metadata, reading a record and its
PDF, holds and a disposal step; other offices get 404, bad metadata a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.archive.helpers import signed_letter
from tests.web.conftest import API, Login, app, clients, login
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.storage.blobs import sha256_hex

__all__ = ["app", "clients", "login"]  # the fixtures of tests/web, used here


@pytest.fixture
def doc_id(rt: Runtime, demo: DemoIds, actors: dict[str, Actor]) -> int:
    return signed_letter(rt, actors, demo)


def test_archiving_over_http_and_reading_the_record(login: Login, doc_id: int) -> None:
    archivist = login("archiwista")
    bad = archivist.post(f"{API}/documents/{doc_id}/archive", json={"category": "B"})
    assert bad.status_code == 422, bad.text
    assert bad.json()["field"] == "retention_years"

    body: dict[str, Any] = {"category": "B", "retention_years": 10, "jrwa_symbol": "0172"}
    done = archivist.post(f"{API}/documents/{doc_id}/archive", json=body)
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "archived"
    record_id = done.json()["archive_record_id"]

    record = archivist.get(f"{API}/archive/{record_id}").json()
    assert record["document_id"] == doc_id and record["category"] == "B"
    assert record["signature_status"] == "valid" and record["pades_level"] == "B-LTA"
    assert [p["teryt"] for p in record["parties"]] == [None, "2473011"]
    pdf = archivist.get(f"{API}/archive/{record_id}/pdf")
    assert pdf.status_code == 200
    assert sha256_hex(pdf.content) == record["pdf_sha256"]
    listed = archivist.get(f"{API}/archive").json()
    assert [r["id"] for r in listed] == [record_id]
    assert archivist.get(f"{API}/archive", params={"due": "true"}).json() == []

    held = archivist.post(f"{API}/archive/{record_id}/hold", json={"reason": "kontrola NIK"})
    assert held.status_code == 200 and held.json()["legal_hold"] is True
    refused = archivist.post(
        f"{API}/archive/{record_id}/disposals", json={"reason": "upływ okresu"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "disposal_under_hold"

    # Rybnik's and Gaszowice's people: 404, even Rybnik's Mayor who signed it (the archive
    # is e-Izba's); e-Izba's author and reviewer: of the office, not its archivists (403).
    for who, code in (("wojt", 404), ("prezydent", 404), ("autor", 403), ("recenzent", 403)):
        other = login(who)
        assert other.get(f"{API}/archive/{record_id}").status_code == code, who
        assert other.get(f"{API}/archive/{record_id}/pdf").status_code == code, who
        assert other.get(f"{API}/archive").json() == []


def test_the_archive_action_of_the_actions_endpoint_writes_the_record_too(
    login: Login, doc_id: int
) -> None:
    archivist = login("archiwista")
    done = archivist.post(f"{API}/documents/{doc_id}/actions/archive")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "archived"
    listed = archivist.get(f"{API}/archive").json()
    assert [r["document_id"] for r in listed] == [doc_id]
    assert listed[0]["category"] == "A"  # the default scheme keeps it
