"""Sign-in and sign-out through the HTML forms, CSRF on forms, the language switch, the
security headers and the absence of inline scripts and styles."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import EMAILS
from tests.web.pages.conftest import PageLogin, csrf_of, sign_in
from workflow.db import transaction
from workflow.demo.data import DEMO_PASSWORD
from workflow.models import AuditRecord, LoginSession
from workflow.runtime import Runtime
from workflow.web.pages.headers import CONTENT_SECURITY_POLICY
from workflow.web.security import SESSION_COOKIE


def _no_inline_code(html: str) -> None:
    """No inline script, event handler or style: the CSP would refuse them."""
    for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
        assert "src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>(?!</script>)", html, flags=re.I)
    assert not re.search(r"\sstyle\s*=", html, flags=re.I)
    assert not re.search(r"<style\b", html, flags=re.I)
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I)
    assert "javascript:" not in html.lower()


def test_login_logout_with_the_forms(anonymous: TestClient, rt: Runtime) -> None:
    anonymous.headers["Accept-Language"] = "pl"
    start = anonymous.get("/")
    assert start.status_code == 200
    assert 'href="/login"' in start.text
    r = sign_in(anonymous, EMAILS["autor"], next_path="/documents")
    assert r.status_code == 303
    assert r.headers["location"] == "/documents"
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE) and "httponly" in cookie and "samesite=lax" in cookie
    board = anonymous.get("/")
    assert board.status_code == 200
    assert "<h1>Pulpit</h1>" in board.text
    assert "Katarzyna Zielińska" in board.text
    # Logging out is a POST form with the session's CSRF token.
    out = anonymous.post(
        "/logout", data={"csrf_token": csrf_of(board.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/login?out=1"
    assert "Wylogowano." in anonymous.get("/login?out=1").text
    again = anonymous.get("/", follow_redirects=False)
    assert again.status_code == 200
    assert "<h1>Pulpit</h1>" not in again.text  # the public start page
    with transaction(rt.read_sessions) as session:
        actions = session.scalars(select(AuditRecord.action)).all()
    assert "auth.login" in actions and "auth.logout" in actions


def test_a_new_session_at_each_login(clients: Callable[[], TestClient]) -> None:
    browser = clients()
    sign_in(browser, EMAILS["autor"])
    first = browser.cookies[SESSION_COOKIE]
    browser.cookies.delete(SESSION_COOKIE)
    form = browser.get("/login")
    browser.cookies.set(SESSION_COOKIE, first)  # the browser still holds the old value
    r = browser.post(
        "/login",
        data={
            "email": EMAILS["autor"],
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    second = r.cookies[SESSION_COOKIE]
    assert second != first
    stale = clients()
    stale.cookies.set(SESSION_COOKIE, first)  # revoked at the new login, never adopted
    assert stale.get("/documents", follow_redirects=False).status_code == 303


def test_wrong_password_and_empty_fields_shown_in_the_form(anonymous: TestClient) -> None:
    anonymous.headers["Accept-Language"] = "pl"
    wrong = sign_in(anonymous, EMAILS["autor"], password="nie-to-haslo")
    assert wrong.status_code == 401
    assert "Nieprawidłowy adres e-mail lub hasło." in wrong.text
    assert 'value="autor@e-izba.demo"' in wrong.text  # the e-mail typed stays, never the password
    assert "nie-to-haslo" not in wrong.text
    empty = sign_in(anonymous, "", password="")
    assert empty.status_code == 422
    assert 'id="f-email-error"' in empty.text and "Wpisz adres e-mail." in empty.text
    assert 'aria-invalid="true"' in empty.text


def test_rate_limit_message_in_polish(anonymous: TestClient, rt: Runtime) -> None:
    anonymous.headers["Accept-Language"] = "pl"
    limit = rt.settings.identity.login_max_failures
    for _ in range(limit):
        sign_in(anonymous, EMAILS["recenzent"], password="zle-haslo-123")
    locked = sign_in(anonymous, EMAILS["recenzent"])  # even the right password now
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers
    assert 'role="alert"' in locked.text
    assert "Zbyt wiele nieudanych logowań. Spróbuj ponownie za" in locked.text
    assert "<h1>Zaloguj się</h1>" in locked.text


def test_login_form_without_its_token_is_refused(anonymous: TestClient) -> None:
    anonymous.headers["Accept-Language"] = "pl"
    anonymous.get("/login")
    r = anonymous.post(
        "/login", data={"email": EMAILS["autor"], "password": "x", "csrf_token": "0" * 64},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 403
    assert SESSION_COOKIE not in anonymous.cookies
    foreign = anonymous.post(
        "/login", data={"email": EMAILS["autor"], "password": "x"},
        headers={"Origin": "https://evil.example"}, follow_redirects=False,
    )  # fmt: skip
    assert foreign.status_code == 403


def test_not_logged_in_goes_to_login(anonymous: TestClient) -> None:
    r = anonymous.get("/documents?status=draft", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/documents%3Fstatus%3Ddraft"
    post = anonymous.post("/logout", data={}, follow_redirects=False)
    assert post.status_code == 403
    assert post.headers["content-type"].startswith("text/html")


def test_expired_session_back_to_login_with_a_message(anonymous: TestClient) -> None:
    anonymous.headers["Accept-Language"] = "pl"
    anonymous.cookies.set(SESSION_COOKIE, "no-such-session")
    r = anonymous.get("/documents", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].endswith("&expired=1")
    page = anonymous.get(r.headers["location"])
    assert "Twoja sesja wygasła. Zaloguj się ponownie." in page.text


def test_next_never_leaves_the_site(clients: Callable[[], TestClient]) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = sign_in(clients(), EMAILS["autor"], next_path=target)
        assert r.headers["location"] == "/", target


def test_post_without_csrf_is_refused_and_changes_nothing(
    page_login: PageLogin, rt: Runtime
) -> None:
    client = page_login("autor")
    with transaction(rt.read_sessions) as session:
        before = session.scalar(select(func.count()).select_from(AuditRecord))
    for data in ({}, {"csrf_token": "f" * 64}):
        r = client.post("/logout", data=data, follow_redirects=False)
        assert r.status_code == 403
        assert "Formularz wygasł" in r.text
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in
    with transaction(rt.read_sessions) as session:
        after = session.scalar(select(func.count()).select_from(AuditRecord))
        open_sessions = session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.revoked_at.is_(None))
        )
    assert after == before
    assert open_sessions == 1


@pytest.mark.parametrize(
    "path", ["/", "/login", "/documents", "/documents?status=draft", "/admin/people", "/nope-page"]
)
def test_security_headers_and_no_inline_code(page_login: PageLogin, path: str) -> None:
    client = page_login("prezes")  # an admin: every page of this area opens
    r = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == (404 if path == "/nope-page" else 200), r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    _no_inline_code(r.text)
    assert '<html lang="pl">' in r.text
    assert '<main id="main"' in r.text


def test_unknown_address_is_a_page_for_browsers_json_for_the_api(anonymous: TestClient) -> None:
    html = {"Accept": "text/html,*/*;q=0.8", "Accept-Language": "pl"}
    page = anonymous.get("/no-such-page", headers=html)
    assert page.status_code == 404 and "Nie ma takiej strony." in page.text
    _no_inline_code(page.text)
    assert anonymous.get("/no-such-page").json()["code"] == "route_not_found"
    api = anonymous.get("/api/v1/no-such-thing", headers=html)
    assert api.status_code == 404 and api.json()["code"] == "route_not_found"


def test_anonymous_pages_have_the_headers_too(anonymous: TestClient) -> None:
    for path in ("/", "/login"):
        r = anonymous.get(path)
        assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        _no_inline_code(r.text)
    css = anonymous.get("/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.headers["x-content-type-options"] == "nosniff"
    assert anonymous.get("/static/htmx.min.js").status_code == 200


def test_language_switch(clients: Callable[[], TestClient]) -> None:
    client = clients()
    client.headers["Accept-Language"] = "pl"
    assert "<h1>Zaloguj się</h1>" in client.get("/login").text
    english = client.get("/login?lang=en")
    assert "<h1>Sign in</h1>" in english.text
    assert english.headers["content-language"] == "en"
    assert "lang=en" in english.headers["set-cookie"]
    # Remembered by the cookie, over Accept-Language.
    assert "<h1>Sign in</h1>" in client.get("/login").text
    assert "<h1>Zaloguj się</h1>" in client.get("/login?lang=pl").text
    other = clients()
    other.headers["Accept-Language"] = "en-GB,en;q=0.9"
    assert '<html lang="en">' in other.get("/").text
    third = clients()
    third.headers["Accept-Language"] = "de"
    assert '<html lang="pl">' in third.get("/").text  # Polish by default
