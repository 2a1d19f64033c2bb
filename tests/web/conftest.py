"""The real app over the real runtime (SQLite and PostgreSQL, see tests/conftest.py), driven
through FastAPI's TestClient. ``login("autor")`` gives a client holding that demo person's
session cookie and sending its CSRF token, as the browser pages will."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from workflow.demo.data import DEMO_PASSWORD, PEOPLE, DemoIds
from workflow.runtime import Runtime
from workflow.web import create_app

API = "/api/v1"
EMAILS = {p.key: p.email for p in PEOPLE}

Login = Callable[[str], TestClient]


@pytest.fixture
def app(rt: Runtime, demo: DemoIds) -> FastAPI:
    return create_app(rt.settings, runtime=rt)


@pytest.fixture
def clients(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """Fresh clients (own cookie jar) whose lifespans end with the test."""
    with ExitStack() as stack:

        def new() -> TestClient:
            client = TestClient(app, headers={"Accept-Language": "en"})
            return stack.enter_context(client)

        yield new


@pytest.fixture
def anonymous(clients: Callable[[], TestClient]) -> TestClient:
    return clients()


@pytest.fixture
def login(clients: Callable[[], TestClient]) -> Login:
    def log_in(who: str) -> TestClient:
        client = clients()
        r = client.post(f"{API}/auth/login", json={"email": EMAILS[who], "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return client

    return log_in


LETTER_VALUES: dict[str, Any] = {
    "strategy_name": "e-Strategia Miasta Rybnika na lata 2026–2030",
    "preamble": (
        "Strony, działając w interesie mieszkańców i przedsiębiorców Rybnika, "
        "postanawiają współpracować przy przygotowaniu i wdrożeniu e-strategii."
    ),
    "goals": ["Cyfryzacja usług publicznych", "Rozwój kompetencji cyfrowych mieszkańców"],
    "cooperation_forms": ["Warsztaty dla urzędników", "Konsultacje eksperckie"],
    "valid_until": "2027-12-31",
}


def letter_body(demo: DemoIds, **changes: Any) -> dict[str, Any]:
    """A valid request for a Rybnik letter of intent, signed by e-Izba, then the Mayor."""
    body: dict[str, Any] = {
        "template": "list_intencyjny",
        "title": "List intencyjny w sprawie e-strategii Rybnika",
        "values": dict(LETTER_VALUES),
        "parties": [
            {"organisation_id": demo.organisations["eizba"]},
            {"organisation_id": demo.organisations["rybnik"]},
        ],
        "signatories": [
            {"user_id": demo.people["prezes"]},
            {"user_id": demo.people["prezydent"]},
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
def letter(login: Login, demo: DemoIds) -> dict[str, Any]:
    """A Rybnik letter of intent in draft, created by the author over HTTP."""
    r = login("autor").post(f"{API}/documents", json=letter_body(demo))
    assert r.status_code == 201, r.text
    document: dict[str, Any] = r.json()
    return document
