"""The archive's pages, driven as a browser without JavaScript: an archivist archives the
signed Rybnik letter through its form, finds it by an inflected word with filters and
snippets, opens its record (the file validated now, downloads), holds it, and imports an
agreement signed earlier; others see only what is theirs, and a damaged file is never
served as valid."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.archive.helpers import plain_pdf, signed_letter
from tests.web.pages.conftest import PageLogin, csrf_of
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord, Document
from workflow.runtime import Runtime
from workflow.states import Status
from workflow.storage.blobs import FileBlobStore


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def signed_id(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> int:
    return signed_letter(rt, actors, demo)


def _archive(client: TestClient, doc_id: int, **fields: str) -> Any:
    form = client.get(f"/documents/{doc_id}/archive")
    assert form.status_code == 200, form.text
    data = {"csrf_token": csrf_of(form.text), **_prefilled(form.text), **fields}
    return client.post(f"/documents/{doc_id}/archive", data=data, follow_redirects=False)


def _prefilled(html: str) -> dict[str, str]:
    values = dict(re.findall(r'name="(\w+)"[^>]*?value="([^"]*)"', html))
    chosen = re.search(
        r'<select id="f-category" name="category"[^>]*>.*?value="(\w+)" selected', html, re.S
    )
    if chosen:
        values["category"] = chosen.group(1)
    values.pop("csrf_token", None)
    return values


def _record_id(response: Any) -> int:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/archive/(\d+)\?done=\w+", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def test_the_archivist_archives_the_signed_letter_and_opens_its_record(
    page_login: PageLogin, rt: Runtime, signed_id: int
) -> None:
    archivist = page_login("archiwista")
    form = archivist.get(f"/documents/{signed_id}/archive")
    assert "Miasto Rybnik" in form.text and "2473011" in form.text  # the party, with TERYT
    done = _archive(archivist, signed_id, category="B", retention_years="10")
    record_id = _record_id(done)

    page = archivist.get(f"/archive/{record_id}?done=archived")
    assert page.status_code == 200, page.text
    text = _text(page.text)
    assert "Dokument został zarchiwizowany." in text
    assert "Wszystkie podpisy są ważne." in text  # validated now, from the stored file
    assert "Patrycja Sass-Staniszewska" in text and "Piotr Kuczera" in text
    with rt.read_sessions() as session:
        record = session.get(ArchiveRecord, record_id)
        assert record is not None and record.category == "B" and record.retention_years == 10
        doc = session.get(Document, signed_id)
        assert doc is not None and doc.status == Status.ARCHIVED
        closed = record.case_closed_on
    assert f"{closed.year + 11}-01-01" in text  # 1 January after closing + 10 years

    pdf = archivist.get(f"/archive/{record_id}/file")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    assert hashlib.sha256(pdf.content).hexdigest() == record.pdf_sha256

    evidence = archivist.get(f"/archive/{record_id}/evidence")
    assert evidence.status_code == 200 and evidence.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(evidence.content)) as package:
        names = package.namelist()
        assert any(n.endswith(".pdf") and package.read(n) == pdf.content for n in names)


def test_a_refused_field_is_named_beside_it_and_nothing_is_archived(
    page_login: PageLogin, rt: Runtime, signed_id: int
) -> None:
    archivist = page_login("archiwista")
    r = _archive(archivist, signed_id, category="B", retention_years="")
    assert r.status_code == 422
    assert 'id="f-retention_years-error"' in r.text
    r = _archive(archivist, signed_id, jrwa_symbol="12345x")
    assert r.status_code == 422 and 'id="f-jrwa_symbol-error"' in r.text
    with rt.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(ArchiveRecord)) == 0
        doc = session.get(Document, signed_id)
        assert doc is not None and doc.status == Status.SIGNED


def test_search_finds_the_inflected_name_with_filters_and_marks_it(
    page_login: PageLogin, signed_id: int
) -> None:
    _record_id(_archive(page_login("archiwista"), signed_id, category="A", retention_years=""))
    author = page_login("autor")
    page = author.get("/search", params={"q": "Rybniku"})
    assert page.status_code == 200, page.text
    assert 'href="/archive/' in page.text or f'href="/documents/{signed_id}"' in page.text
    assert "<mark>" in page.text
    assert re.search(
        r'name="category" value="A"[^>]*>\s*<label[^>]*>[^<]*<span class="count">\(1\)', page.text
    )

    narrowed = author.get("/search", params={"q": "Rybnik", "category": "B"})
    assert narrowed.status_code == 200
    assert "Nic nie znaleziono." in _text(narrowed.text)

    too_long = author.get("/search", params={"q": "x" * 600})
    assert too_long.status_code == 422 and 'id="f-q-error"' in too_long.text
    odd = author.get("/search", params={"q": '"Rybnik* AND (NEAR'})
    assert odd.status_code == 200  # operators and brackets are plain text

    other = page_login("wojt")  # a person of another municipality
    theirs = other.get("/search", params={"q": "Rybnik"})
    assert theirs.status_code == 200
    assert "Nic nie znaleziono." in _text(theirs.text)


def test_the_record_page_is_the_archivists_of_its_office(
    page_login: PageLogin, signed_id: int
) -> None:
    record_id = _record_id(_archive(page_login("archiwista"), signed_id))
    assert page_login("wojt").get(f"/archive/{record_id}").status_code == 404
    assert page_login("wojt").get(f"/archive/{record_id}/file").status_code == 404
    assert page_login("autor").get(f"/archive/{record_id}").status_code == 403
    assert page_login("autor").get(f"/archive/{record_id}/evidence").status_code == 403


def test_legal_hold_blocks_a_disposal_proposal_and_needs_the_token(
    page_login: PageLogin, rt: Runtime, signed_id: int
) -> None:
    archivist = page_login("archiwista")
    record_id = _record_id(_archive(archivist, signed_id, category="B", retention_years="5"))
    page = archivist.get(f"/archive/{record_id}")
    forged = archivist.post(
        f"/archive/{record_id}/hold", data={"reason": "spór", "csrf_token": "0" * 64}
    )
    assert forged.status_code == 403
    held = archivist.post(
        f"/archive/{record_id}/hold",
        data={"reason": "Spór sądowy o realizację", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert held.status_code == 303
    page = archivist.get(held.headers["location"])
    text = _text(page.text)
    assert "Spór sądowy o realizację" in text and "Zdejmij blokadę" in text
    assert f'action="/archive/{record_id}/disposals"' not in page.text  # nothing offered
    refused = archivist.post(
        f"/archive/{record_id}/disposals",
        data={"reason": "upływ okresu", "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 409
    with rt.read_sessions() as session:
        record = session.get(ArchiveRecord, record_id)
        assert record is not None and record.legal_hold and record.disposed_at is None


def test_a_damaged_file_is_shown_as_such_and_never_served(
    page_login: PageLogin, rt: Runtime, signed_id: int
) -> None:
    archivist = page_login("archiwista")
    record_id = _record_id(_archive(archivist, signed_id))
    with rt.read_sessions() as session:
        record = session.get(ArchiveRecord, record_id)
        assert record is not None
        sha = record.pdf_sha256
    assert isinstance(rt.blobs, FileBlobStore)
    path = rt.blobs._path(sha)
    path.chmod(0o600)
    path.write_bytes(path.read_bytes().replace(b"Rybnik", b"Rybnix", 1))
    page = archivist.get(f"/archive/{record_id}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Zarchiwizowanemu plikowi nie można ufać" in text
    assert "Wszystkie podpisy są ważne." not in text
    served = archivist.get(f"/archive/{record_id}/file")
    assert served.status_code != 200 and served.headers["content-type"].startswith("text/html")


def test_the_archivist_imports_an_earlier_agreement_once(
    page_login: PageLogin, rt: Runtime
) -> None:
    archivist = page_login("archiwista")
    pdf = plain_pdf("Porozumienie z Gminą Pszów, 2019")

    def upload(data: bytes, **fields: str) -> Any:
        form = archivist.get("/archive/import")
        assert form.status_code == 200, form.text
        return archivist.post(
            "/archive/import",
            data={"csrf_token": csrf_of(form.text), **fields},
            files={"file": ("pszow.pdf", data, "application/pdf")},
            follow_redirects=False,
        )

    first = upload(
        pdf, party_name="Gmina Pszów", party_teryt="2415021", category="B", retention_years="10"
    )
    record_id = _record_id(first)
    page = archivist.get(first.headers["location"])
    text = _text(page.text)
    assert "Porozumienie zaimportowano do archiwum." in text
    assert "Gmina Pszów" in text and "niepodpisany" in text

    again = upload(pdf)
    assert _record_id(again) == record_id and again.headers["location"].endswith("done=already")

    not_pdf = upload(b"PK\x03\x04 a zip, named .pdf")
    assert not_pdf.status_code == 422 and 'id="f-file-error"' in not_pdf.text
    bad_teryt = upload(plain_pdf("inne"), party_name="Gmina X", party_teryt="99")
    assert bad_teryt.status_code == 422 and 'id="f-party_teryt-error"' in bad_teryt.text
    with rt.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(ArchiveRecord)) == 1

    assert page_login("autor").get("/archive/import").status_code == 403


def test_a_due_record_is_disposed_of_by_two_people_and_its_record_stays(
    page_login: PageLogin, rt: Runtime, signed_id: int
) -> None:
    archivist, admin = page_login("archiwista"), page_login("prezes")
    done = _archive(
        archivist, signed_id, category="B", retention_years="5", case_closed_on="2010-05-01"
    )
    record_id = _record_id(done)
    page = archivist.get(f"/archive/{record_id}")
    assert "2016-01-01" in page.text
    proposed = archivist.post(
        f"/archive/{record_id}/disposals",
        data={"reason": "Upłynął okres przechowywania", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert proposed.status_code == 303, proposed.text
    own = archivist.get(f"/archive/{record_id}")
    assert "musi zatwierdzić inny archiwista" in _text(own.text)
    assert "/approve" not in own.text  # the proposer is not offered the approval

    seen = admin.get(f"/archive/{record_id}")
    approve = re.search(r'action="(/archive/disposals/\d+/approve)"', seen.text)
    assert approve, seen.text
    approved = admin.post(
        approve.group(1),
        data={"record_id": str(record_id), "csrf_token": csrf_of(seen.text)},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    page = archivist.get(f"/archive/{record_id}")
    execute = re.search(r'action="(/archive/disposals/\d+/execute)"', page.text)
    assert execute, page.text
    executed = archivist.post(
        execute.group(1),
        data={"record_id": str(record_id), "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert executed.status_code == 303
    page = archivist.get(executed.headers["location"])
    text = _text(page.text)
    assert "wybrakowany" in text and "Tomasz Król" in text and "Patrycja Sass-Staniszewska" in text
    assert archivist.get(f"/archive/{record_id}/file").status_code == 404
    with rt.read_sessions() as session:
        record = session.get(ArchiveRecord, record_id)
        assert record is not None and record.disposed_at is not None
