"""Page tests drive the HTML forms as a browser without JavaScript would: read the hidden
``csrf_token`` from the page, post the form, follow the redirect."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import EMAILS
from workflow.demo.data import DEMO_PASSWORD

_CSRF = re.compile(r'<input type="hidden" name="csrf_token" value="([0-9a-f]+)">')

PageLogin = Callable[[str], TestClient]


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def sign_in(
    client: TestClient, email: str, password: str = DEMO_PASSWORD, next_path: str = "/"
) -> httpx.Response:
    form = client.get("/login", params={"next": next_path}, follow_redirects=False)
    assert form.status_code == 200, "signed in already"
    return client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "next": next_path,
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )


@pytest.fixture
def page_login(clients: Callable[[], TestClient]) -> PageLogin:
    """A client signed in through the login form, Polish pages."""

    def log_in(who: str) -> TestClient:
        client = clients()
        client.headers["Accept-Language"] = "pl"
        r = sign_in(client, EMAILS[who])
        assert r.status_code == 303, r.text
        return client

    return log_in
