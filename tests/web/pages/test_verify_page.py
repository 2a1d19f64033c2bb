"""The public "verify a document" page, driven as a browser without JavaScript by someone
who is not signed in: the validation of the file, whether it is a document of the archive
(and nothing else of the archive), errors beside the file field, CSRF and the throttle."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from signatures import PadesLevel
from tests.archive.helpers import archive_pdf
from tests.signatures.sample import signed_sample
from tests.web.pages.conftest import csrf_of
from workflow.archive import public_check
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.models import LoginThrottle
from workflow.runtime import Runtime
from workflow.signing.trust import SigningEnvironment


@pytest.fixture(scope="module")
def signed_letter(signing_env: SigningEnvironment) -> bytes:
    """The sample letter signed at B-LTA with the application's demo PKI: it carries its
    own revocation data, so it validates without reaching any service."""
    return signed_sample(signing_env, PadesLevel.B_LTA)


def _check(client: TestClient, pdf: bytes, *, name: str = "umowa.pdf") -> tuple[int, str]:
    form = client.get("/verify")
    assert form.status_code == 200
    r = client.post(
        "/verify",
        data={"csrf_token": csrf_of(form.text)},
        files={"file": (name, pdf, "application/pdf")},
    )
    return r.status_code, r.text


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_anyone_checks_a_signed_pdf_and_learns_it_is_not_archived(
    anonymous: TestClient, signed_letter: bytes
) -> None:
    anonymous.headers["Accept-Language"] = "pl"
    status, html = _check(anonymous, signed_letter)
    assert status == 200, html
    text = _text(html)
    assert "Wszystkie podpisy są ważne." in text
    assert "PAdES B-LTA" in text
    assert "Żaden dokument archiwum nie jest tym plikiem." in text
    assert public_check.hashlib.sha256(signed_letter).hexdigest() in html


def test_a_file_that_is_not_a_pdf_is_named_beside_the_field(anonymous: TestClient) -> None:
    anonymous.headers["Accept-Language"] = "en"
    status, html = _check(anonymous, b"GIF89a not a pdf at all", name="x.pdf")
    assert status == 422
    assert 'id="f-file-error"' in html and 'aria-invalid="true"' in html
    assert "All signatures are valid." not in html


def test_a_broken_pdf_is_a_clear_error_not_a_500(anonymous: TestClient) -> None:
    status, html = _check(anonymous, b"%PDF-1.7\n1 0 obj 42 endobj\ntrailer << /Root 1 0 R >>")
    assert status == 422
    assert 'id="f-file-error"' in html


def test_without_the_forms_token_nothing_is_checked(
    anonymous: TestClient, rt: Runtime, signed_letter: bytes
) -> None:
    anonymous.get("/verify")
    r = anonymous.post(
        "/verify",
        data={"csrf_token": "0" * 64},
        files={"file": ("umowa.pdf", signed_letter, "application/pdf")},
    )
    assert r.status_code == 403
    assert "All signatures are valid." not in r.text and "Wszystkie podpisy" not in r.text
    with rt.read_sessions() as session:  # not even counted by the throttle
        assert session.scalar(select(func.count()).select_from(LoginThrottle)) == 0


def test_a_foreign_origin_is_refused(anonymous: TestClient, signed_letter: bytes) -> None:
    form = anonymous.get("/verify")
    r = anonymous.post(
        "/verify",
        data={"csrf_token": csrf_of(form.text)},
        files={"file": ("umowa.pdf", signed_letter, "application/pdf")},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403


def test_one_address_is_paused_after_its_checks(
    anonymous: TestClient, signed_letter: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public_check, "CHECKS_PER_WINDOW", 3)
    for _ in range(3):
        assert _check(anonymous, signed_letter)[0] == 200
    form = anonymous.get("/verify")
    r = anonymous.post(
        "/verify",
        data={"csrf_token": csrf_of(form.text)},
        files={"file": ("umowa.pdf", signed_letter, "application/pdf")},
    )
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert 'id="f-file-error"' in r.text


def test_an_archived_file_is_recognised_and_nothing_else_of_it_is_shown(
    anonymous: TestClient,
    rt: Runtime,
    demo: DemoIds,
    actors: dict[str, Actor],
    signed_letter: bytes,
) -> None:
    archive_pdf(rt, demo, actors["archiwista"], signed_letter, title="Tajny tytuł porozumienia")
    anonymous.headers["Accept-Language"] = "pl"
    status, html = _check(anonymous, signed_letter)
    assert status == 200, html
    text = _text(html)
    assert "Ten właśnie plik jest dokumentem archiwum." in text
    assert "Wszystkie podpisy są ważne." in text
    assert "Tajny tytuł" not in html and "Rybnik" not in html  # title and parties stay hidden

    changed = signed_letter + b"\n%"  # one more byte after the end: a different file
    status, html = _check(anonymous, changed)
    assert status == 200
    assert "Żaden dokument archiwum nie jest tym plikiem." in _text(html)
