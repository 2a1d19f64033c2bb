"""The signature page, driven as a browser without JavaScript: the signatory sees the frozen
PDF, its sha256, the history and the order of signatories, and signs by uploading the PDF
signed elsewhere, remotely at a CSC provider (certomancer-csc-dummy) or with the demo key;
every way ends with the validation result on the page."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from signatures import validate_pdf
from signatures.pki import ARCH_LABEL
from tests.signatures.tamper import add_page_text
from tests.signatures.test_csc import CscTestServer
from tests.signing.test_upload import desktop_sign
from tests.web.conftest import API, Login
from tests.web.pages.conftest import PageLogin, csrf_of
from tests.web.test_signing import _approved_for_signing
from workflow.runtime import Runtime

# The log check looks for each PIN as a whole number, not inside a timestamp or a port.
PIN = "97315842"
WRONG_PIN = "50864213"


@pytest.fixture
def awaiting(login: Login, letter: dict[str, Any]) -> dict[str, Any]:
    return _approved_for_signing(login, letter)


def _sha_on(html: str) -> str:
    found = re.search(r'name="pdf_sha256" value="([0-9a-f]{64})"', html)
    assert found, "no sign form on the page"
    return found.group(1)


def _doc(client: TestClient, doc_id: int) -> dict[str, Any]:
    r = client.get(f"{API}/documents/{doc_id}")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def test_the_page_shows_the_pdf_the_order_and_the_history_and_only_the_next_signs(
    page_login: PageLogin, awaiting: dict[str, Any]
) -> None:
    doc_id = awaiting["id"]
    prezes, prezydent, wojt = page_login("prezes"), page_login("prezydent"), page_login("wojt")
    page = prezes.get(f"/documents/{doc_id}/sign")
    assert page.status_code == 200, page.text
    html = page.text
    assert awaiting["current_pdf_sha256"] in html
    assert "Patrycja Sass-Staniszewska" in html and "Piotr Kuczera" in html
    assert html.index("Patrycja Sass-Staniszewska") < html.index("Piotr Kuczera")
    assert "Zatwierdzono" in html and "Marek Wiśniewski" in html  # the approval history
    assert f'action="/documents/{doc_id}/sign/upload"' in html
    assert "DEMO — bez mocy prawnej" in html
    assert "/sign/remote" not in html  # no CSC provider configured here
    assert _sha_on(html) == awaiting["current_pdf_sha256"]

    image = re.search(r'src="(/documents/\d+/sign/pages/[0-9a-f]{64}/1\.png)"', html)
    assert image, "no page images"
    png = prezes.get(image.group(1))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    pdf = prezes.get(f"/documents/{doc_id}/sign/document.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    mayor = prezydent.get(f"/documents/{doc_id}/sign")
    assert mayor.status_code == 200
    assert "/sign/upload" not in mayor.text and "/sign/demo" not in mayor.text
    assert "Oczekuje na podpis:" in mayor.text

    assert wojt.get(f"/documents/{doc_id}/sign").status_code == 404
    assert wojt.get(image.group(1)).status_code == 404


def test_demo_key_then_upload_signed_elsewhere_ends_signed_and_valid(
    page_login: PageLogin, login: Login, awaiting: dict[str, Any], rt: Runtime
) -> None:
    doc_id = awaiting["id"]
    prezes, prezydent = page_login("prezes"), page_login("prezydent")
    page = prezes.get(f"/documents/{doc_id}/sign").text
    done = prezes.post(
        f"/documents/{doc_id}/sign/demo",
        data={"csrf_token": csrf_of(page), "pdf_sha256": _sha_on(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    shown = prezes.get(done.headers["location"])
    assert "Podpisano kluczem demonstracyjnym" in shown.text
    assert "Wszystkie podpisy są ważne." in shown.text

    api = login("prezydent")
    awaited_sha = _doc(api, doc_id)["current_pdf_sha256"]
    awaited = rt.blobs.get(awaited_sha)
    page = prezydent.get(f"/documents/{doc_id}/sign").text
    token = csrf_of(page)

    def upload(content: bytes, media_type: str = "application/pdf") -> Any:
        return prezydent.post(
            f"/documents/{doc_id}/sign/upload",
            data={"csrf_token": token},
            files={"file": ("podpisany.pdf", content, media_type)},
            follow_redirects=False,
        )

    not_pdf = upload(b"PK\x03\x04 zip", "application/zip")
    assert not_pdf.status_code == 422
    assert "Plik nie jest dokumentem PDF" in not_pdf.text
    wrong_person = upload(desktop_sign(rt, awaited, key_id="wojt"))
    assert wrong_person.status_code == 422
    assert "wystawionym dla: Anna Przykładowa" in wrong_person.text
    assert "Niczego nie zmieniono." in wrong_person.text
    changed = upload(desktop_sign(rt, add_page_text(awaited)))
    assert changed.status_code == 422
    assert "zmienia treść dokumentu" in changed.text
    assert _doc(api, doc_id)["current_pdf_sha256"] == awaited_sha  # nothing changed
    no_csrf = prezydent.post(
        f"/documents/{doc_id}/sign/upload",
        files={"file": ("p.pdf", desktop_sign(rt, awaited), "application/pdf")},
    )
    assert no_csrf.status_code == 403

    accepted = upload(desktop_sign(rt, awaited, timestamp=True))
    assert accepted.status_code == 303, accepted.text
    result = prezydent.get(accepted.headers["location"]).text
    assert "Twój podpis został przyjęty i zapisany." in result
    assert "Wszystkie podpisy są ważne." in result and "B-LTA" in result
    assert "podpisany poza systemem, przesłany" in result
    final = _doc(api, doc_id)
    assert final["status"] == "signed"
    assert validate_pdf(rt.blobs.get(final["current_pdf_sha256"]), trust=rt.signing.trust).valid


@pytest.fixture
def csc(rt: Runtime) -> Iterator[CscTestServer]:
    """certomancer-csc-dummy holding the demo PKI's keys; the installation configured for it."""
    pki = rt.signing.demo_pki
    assert pki is not None
    server = CscTestServer(
        pki.certomancer_config(),
        users={"estrategia": "service-password"},
        pins={f"{ARCH_LABEL}/prezes": PIN},
    ).start()
    signing = rt.settings.signing.model_copy(
        update={"csc_url": server.base_url, "csc_username": "estrategia",
                "csc_password": "service-password"}
    )  # fmt: skip
    rt.settings = rt.settings.model_copy(update={"signing": signing})
    try:
        yield server
    finally:
        server.stop()


def test_remote_signing_at_a_csc_provider_with_the_pin_typed_on_the_page(
    csc: CscTestServer, page_login: PageLogin, login: Login, awaiting: dict[str, Any],
    rt: Runtime, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)  # not even a debug line may carry the PIN
    doc_id = awaiting["id"]
    prezes = page_login("prezes")
    page = prezes.get(f"/documents/{doc_id}/sign").text
    assert f'action="/documents/{doc_id}/sign/remote"' in page
    form = {"csrf_token": csrf_of(page), "pdf_sha256": _sha_on(page)}

    wrong = prezes.post(
        f"/documents/{doc_id}/sign/remote", data={**form, "pin": WRONG_PIN}, follow_redirects=False
    )
    assert wrong.status_code == 422, wrong.text
    assert _doc(login("prezes"), doc_id)["current_pdf_sha256"] == awaiting["current_pdf_sha256"]

    done = prezes.post(
        f"/documents/{doc_id}/sign/remote", data={**form, "pin": PIN}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    shown = prezes.get(done.headers["location"]).text
    assert "podpisany u Twojego dostawcy" in shown and "Wszystkie podpisy są ważne." in shown
    assert ("v2", "credentials/authorize") in csc.calls
    for pin in (PIN, WRONG_PIN):
        assert not re.search(rf"(?<!\d){pin}(?!\d)", caplog.text), pin
    signed = _doc(login("prezes"), doc_id)
    assert signed["signatories"][0]["signed_at"] is not None
