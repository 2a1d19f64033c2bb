"""Login sessions, CSRF, API tokens, and the answers to strangers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.web.conftest import API, EMAILS, Login
from workflow import audit
from workflow.db import transaction
from workflow.demo.data import DEMO_PASSWORD, DemoIds
from workflow.identity.sessions import token_hash
from workflow.models import LoginSession
from workflow.runtime import Runtime
from workflow.web.security import CSRF_HEADER, SESSION_COOKIE, CsrfTokens


def test_health_and_openapi_need_no_login(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    spec = anonymous.get("/openapi.json").json()
    assert spec["info"]["title"] == "estrategia"
    assert "/api/v1/documents/{document_id}/actions/{action}" in spec["paths"]
    upload = spec["paths"]["/api/v1/templates/{name}/versions"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]


def test_login_sets_a_hardened_session_cookie(anonymous: TestClient) -> None:
    r = anonymous.post(
        f"{API}/auth/login", json={"email": EMAILS["autor"], "password": DEMO_PASSWORD}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["email"] == "autor@e-izba.demo"
    assert body["authenticated_by"] == "session"
    assert len(body["csrf_token"]) >= 32
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE)
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "max-age=" in cookie
    me = anonymous.get(f"{API}/auth/me").json()
    assert me["user"]["full_name"] == "Katarzyna Zielińska"
    assert me["csrf_token"] == body["csrf_token"]


def test_bad_login_does_not_tell_which_part_was_wrong(anonymous: TestClient) -> None:
    wrong_password = anonymous.post(
        f"{API}/auth/login", json={"email": EMAILS["autor"], "password": "nie-to-haslo"}
    )
    no_such_user = anonymous.post(
        f"{API}/auth/login", json={"email": "nikt@e-izba.demo", "password": "nie-to-haslo"}
    )
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert wrong_password.json() == no_such_user.json()
    assert wrong_password.json()["detail"] == "Invalid email or password."
    assert SESSION_COOKIE not in wrong_password.cookies


def test_messages_are_polish_by_default(anonymous: TestClient) -> None:
    r = anonymous.post(
        f"{API}/auth/login",
        json={"email": EMAILS["autor"], "password": "x"},
        headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"},
    )
    assert r.json()["detail"] == "Nieprawidłowy adres e-mail lub hasło."
    assert r.headers["content-language"] == "pl"
    r = anonymous.get(f"{API}/documents", headers={"Accept-Language": "de"})
    assert r.status_code == 401
    assert r.json()["detail"].startswith("Wymagane zalogowanie")


def test_login_accepts_json_only_and_no_foreign_origin(anonymous: TestClient) -> None:
    form = anonymous.post(
        f"{API}/auth/login", data={"email": EMAILS["autor"], "password": DEMO_PASSWORD}
    )
    assert form.status_code == 415
    assert form.json()["code"] == "json_required"
    assert SESSION_COOKIE not in form.cookies
    as_json = f'{{"email": "{EMAILS["autor"]}", "password": "{DEMO_PASSWORD}"}}'
    # What a cross-site page can send without a preflight: text/plain, or no type at all.
    for headers in ({"Content-Type": "text/plain"}, {}):
        r = anonymous.post(f"{API}/auth/login", content=as_json, headers=headers)
        assert r.status_code == 415
        assert SESSION_COOKIE not in r.cookies
    foreign = anonymous.post(
        f"{API}/auth/login",
        json={"email": EMAILS["autor"], "password": DEMO_PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert foreign.json()["code"] == "cross_origin"
    assert SESSION_COOKIE not in foreign.cookies


def test_strangers_get_401(anonymous: TestClient, letter: dict[str, object]) -> None:
    for method, path in [
        ("GET", "/auth/me"),
        ("GET", "/templates"),
        ("GET", "/documents"),
        ("GET", f"/documents/{letter['id']}"),
        ("POST", f"/documents/{letter['id']}/actions/submit"),
        ("GET", f"/documents/{letter['id']}/versions/1/docx"),
    ]:
        r = anonymous.request(method, f"{API}{path}")
        assert r.status_code == 401, (method, path)
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_unknown_expired_or_idle_sessions_are_refused(
    login: Login, clients: Callable[[], TestClient], rt: Runtime
) -> None:
    forged = clients()
    forged.cookies.set(SESSION_COOKIE, "a-value-no-server-ever-issued")
    assert forged.get(f"{API}/auth/me").status_code == 401
    for column in ("expires_at", "last_seen_at"):  # past its absolute end; idle too long
        client = login("autor")
        assert client.get(f"{API}/auth/me").status_code == 200
        value = client.cookies[SESSION_COOKIE]
        with rt.engine.begin() as connection:
            connection.execute(
                update(LoginSession)
                .where(LoginSession.token_sha256 == token_hash(value))
                .values({column: datetime.now(UTC) - timedelta(days=1)})
            )
        assert client.get(f"{API}/auth/me").status_code == 401, column
    with pytest.raises(ValueError, match="at least 16"):
        CsrfTokens("")  # an empty key would let anyone compute a session's CSRF token


def test_unsafe_requests_of_a_session_need_its_csrf_token(
    login: Login, letter: dict[str, object]
) -> None:
    client = login("autor")
    token = client.headers.pop(CSRF_HEADER)
    url = f"{API}/documents/{letter['id']}/comments"
    missing = client.post(url, json={"body": "Uwaga"})
    assert missing.status_code == 403
    assert missing.json()["code"] == "csrf_failed"
    wrong = client.post(url, json={"body": "Uwaga"}, headers={CSRF_HEADER: token[:-2] + "xx"})
    assert wrong.status_code == 403
    other = login("recenzent").headers[CSRF_HEADER]  # another session's token does not fit
    assert client.post(url, json={"body": "Uwaga"}, headers={CSRF_HEADER: other}).status_code == 403
    assert client.get(url).json() == []  # nothing was written; safe methods need no token
    ok = client.post(url, json={"body": "Uwaga"}, headers={CSRF_HEADER: token})
    assert ok.status_code == 201


def test_api_tokens_work_without_csrf_until_revoked(
    login: Login, clients: Callable[[], TestClient], letter: dict[str, object]
) -> None:
    session = login("autor")
    r = session.post(f"{API}/auth/tokens", json={"name": "skrypt raportów"})
    assert r.status_code == 201
    issued = r.json()
    assert issued["token"].startswith("est_")
    assert issued["name"] == "skrypt raportów"

    bot = clients()  # no cookie, no CSRF token: the bearer token is the only credential
    bot.headers["Authorization"] = f"Bearer {issued['token']}"
    me = bot.get(f"{API}/auth/me").json()
    assert me["authenticated_by"] == "token"
    assert me["csrf_token"] is None
    comment = bot.post(f"{API}/documents/{letter['id']}/comments", json={"body": "Z API"})
    assert comment.status_code == 201
    assert comment.json()["author_name"] == "Katarzyna Zielińska"
    # A stolen token cannot mint more tokens.
    assert bot.post(f"{API}/auth/tokens", json={"name": "więcej"}).status_code == 403

    assert session.delete(f"{API}/auth/tokens/{issued['id']}").status_code == 204
    assert bot.get(f"{API}/auth/me").status_code == 401
    assert (
        bot.post(f"{API}/documents/{letter['id']}/comments", json={"body": "x"}).status_code == 401
    )


def test_a_token_is_revoked_by_its_owner_only(login: Login) -> None:
    issued = login("autor").post(f"{API}/auth/tokens", json={"name": "t"}).json()
    other = login("recenzent").delete(f"{API}/auth/tokens/{issued['id']}")
    assert other.status_code == 404


def test_malformed_authorization_is_refused_not_ignored(login: Login) -> None:
    client = login("autor")  # a valid cookie does not rescue a bad Authorization header
    for header in ("Basic YXV0b3I6eA==", "Bearer est_not-a-real-token", "Bearer xyz"):
        r = client.get(f"{API}/auth/me", headers={"Authorization": header})
        assert r.status_code == 401, header


def test_logout_ends_the_session(login: Login, demo: DemoIds) -> None:
    client = login("autor")
    r = client.post(f"{API}/auth/logout")
    assert r.status_code == 204
    assert SESSION_COOKIE not in client.cookies
    assert client.get(f"{API}/auth/me").status_code == 401


def test_a_failed_login_over_http_records_where_it_came_from(
    anonymous: TestClient, rt: Runtime
) -> None:
    r = anonymous.post(f"{API}/auth/login", json={"email": EMAILS["autor"], "password": "zle"})
    assert r.status_code == 401
    with transaction(rt.read_sessions) as s:
        failed = [rec for rec in audit.export(s) if rec["action"] == "auth.login_failed"]
    assert [rec["payload"]["client"] for rec in failed] == ["testclient"]
    assert "zle" not in json.dumps(failed)
