"""Sessions and the login throttle live in the database, so two app servers (two apps, each
with its own runtime, engine and pool, over one database) agree on them: a logout, a
password change or an administrator ends a session on both; failed logins on either count
towards one lockout."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient

from workflow import audit
from workflow.db import transaction
from workflow.demo.data import DEMO_PASSWORD, PEOPLE, DemoIds
from workflow.runtime import Runtime, build_runtime
from workflow.web import create_app
from workflow.web.security import CSRF_HEADER, SESSION_COOKIE

API = "/api/v1"
EMAILS = {p.key: p.email for p in PEOPLE}
NEW_PASSWORD = "Zielone-jabłka-w-Rybniku-7"  # a test password

Server = Callable[[], TestClient]


@pytest.fixture
def servers(rt: Runtime, demo: DemoIds) -> Iterator[tuple[Server, Server]]:
    """Two app servers over one database: A on the test's runtime, B on a runtime of its
    own (another engine and pool, as another process would have)."""
    settings = rt.settings.model_copy(
        update={"identity": rt.settings.identity.model_copy(update={"login_max_failures": 3})}
    )
    other = build_runtime(settings)
    with ExitStack() as stack:
        stack.callback(other.close)
        apps = (
            create_app(settings, runtime=dataclasses.replace(rt, settings=settings)),
            create_app(settings, runtime=other),
        )

        def server(app: Any) -> Server:
            def new() -> TestClient:
                client = TestClient(app, headers={"Accept-Language": "en"})
                return stack.enter_context(client)

            return new

        yield server(apps[0]), server(apps[1])


def _login(server: Server, who: str, password: str = DEMO_PASSWORD) -> TestClient:
    client = server()
    r = client.post(f"{API}/auth/login", json={"email": EMAILS[who], "password": password})
    assert r.status_code == 200, r.text
    client.headers[CSRF_HEADER] = r.json()["csrf_token"]
    return client


def _on(server: Server, cookie_of: TestClient) -> TestClient:
    """A client of ``server`` holding a copy of another client's cookie and CSRF token."""
    client = server()
    client.cookies.set(SESSION_COOKIE, cookie_of.cookies[SESSION_COOKIE])
    client.headers[CSRF_HEADER] = cookie_of.headers[CSRF_HEADER]
    return client


def _records(rt: Runtime, action: str) -> list[dict[str, Any]]:
    with transaction(rt.read_sessions) as s:
        assert audit.verify(s).ok
        return [r for r in audit.export(s) if r["action"] == action]


def test_logout_on_one_server_ends_the_session_on_the_other(
    servers: tuple[Server, Server], rt: Runtime
) -> None:
    a, b = servers
    on_a = _login(a, "autor")
    copied = _on(b, on_a)  # the same cookie, sent to server B (or stolen)
    assert copied.get(f"{API}/auth/me").json()["user"]["email"] == EMAILS["autor"]
    assert on_a.post(f"{API}/auth/logout").status_code == 204
    assert copied.get(f"{API}/auth/me").status_code == 401
    assert on_a.get(f"{API}/auth/me").status_code == 401
    [record] = _records(rt, "auth.logout")
    assert record["actor"] == EMAILS["autor"]


def test_login_makes_a_new_session_and_ends_the_one_the_browser_brought(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers
    first = _login(a, "autor")
    old = first.cookies[SESSION_COOKIE]
    old_csrf = first.headers[CSRF_HEADER]
    planted = _on(b, first)  # what an attacker who planted or copied the cookie holds
    r = first.post(f"{API}/auth/login", json={"email": EMAILS["autor"], "password": DEMO_PASSWORD})
    assert r.status_code == 200
    assert first.cookies[SESSION_COOKIE] != old
    assert r.json()["csrf_token"] != old_csrf  # the CSRF token is bound to the new session
    assert planted.get(f"{API}/auth/me").status_code == 401
    first.headers[CSRF_HEADER] = r.json()["csrf_token"]
    assert first.get(f"{API}/auth/me").status_code == 200
    # A cookie the browser brought to the login never becomes the session.
    fixed = b()
    fixed.cookies.set(SESSION_COOKIE, "chosen-by-the-attacker")
    r = fixed.post(f"{API}/auth/login", json={"email": EMAILS["autor"], "password": DEMO_PASSWORD})
    assert r.status_code == 200
    assert r.cookies[SESSION_COOKIE] != "chosen-by-the-attacker"


def test_a_password_change_ends_the_other_sessions_and_renews_its_own(
    servers: tuple[Server, Server], rt: Runtime
) -> None:
    a, b = servers
    laptop, phone = _login(a, "prezydent"), _login(b, "prezydent")
    old_cookie = laptop.cookies[SESSION_COOKIE]
    r = laptop.post(
        f"{API}/auth/password",
        json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 200, r.text
    assert laptop.cookies[SESSION_COOKIE] != old_cookie
    laptop.headers[CSRF_HEADER] = r.json()["csrf_token"]
    assert _on(b, laptop).get(f"{API}/auth/me").status_code == 200  # its new session: both
    assert phone.get(f"{API}/auth/me").status_code == 401
    stale = b()
    stale.cookies.set(SESSION_COOKIE, old_cookie)
    assert stale.get(f"{API}/auth/me").status_code == 401
    assert _login(b, "prezydent", NEW_PASSWORD).get(f"{API}/auth/me").status_code == 200
    refused = b().post(
        f"{API}/auth/login", json={"email": EMAILS["prezydent"], "password": DEMO_PASSWORD}
    )
    assert refused.status_code == 401
    [record] = _records(rt, "auth.password_changed")
    assert record["payload"]["sessions_ended"] == 2
    assert DEMO_PASSWORD not in str(record) and NEW_PASSWORD not in str(record)


@pytest.mark.parametrize(
    ("current", "new", "field", "code"),
    [
        ("wrong", NEW_PASSWORD, "current_password", "current_password_wrong"),
        (DEMO_PASSWORD, "krótkie", "new_password", "password_too_short"),
        (DEMO_PASSWORD, "aaaaaaaaaaaaaaaa", "new_password", "password_too_simple"),
        (DEMO_PASSWORD, "Password12345", "new_password", "password_too_common"),
        (DEMO_PASSWORD, "prezydent-ma-haslo", "new_password", "password_contains_login"),
        (DEMO_PASSWORD, DEMO_PASSWORD, "new_password", "password_unchanged"),
    ],
)
def test_a_refused_password_change_names_the_rule_and_changes_nothing(
    servers: tuple[Server, Server], current: str, new: str, field: str, code: str
) -> None:
    a, b = servers
    client, other = _login(a, "prezydent"), _login(b, "prezydent")
    r = client.post(f"{API}/auth/password", json={"current_password": current, "new_password": new})
    assert r.status_code == 422
    assert (r.json()["field"], r.json()["code"]) == (field, code)
    assert other.get(f"{API}/auth/me").status_code == 200
    assert _login(b, "prezydent", DEMO_PASSWORD)


def test_a_password_change_needs_a_session_not_a_token(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    token = _login(a, "autor").post(f"{API}/auth/tokens", json={"name": "bot"}).json()["token"]
    bot = a()
    bot.headers["Authorization"] = f"Bearer {token}"
    r = bot.post(
        f"{API}/auth/password",
        json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "session_required"


def test_an_admin_lists_and_ends_a_persons_sessions(
    servers: tuple[Server, Server], rt: Runtime, demo: DemoIds
) -> None:
    a, b = servers
    author_a, author_b = _login(a, "autor"), _login(b, "autor")
    admin = _login(b, "prezes")
    url = f"{API}/admin/users/{demo.people['autor']}/sessions"
    listed = admin.get(url, headers={"User-Agent": "admin-browser"})
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 2 and all(s["active"] for s in sessions)
    assert {s["client"] for s in sessions} == {"testclient"}
    assert not any(s["current"] for s in sessions)
    assert author_a.cookies[SESSION_COOKIE] not in listed.text  # ids, never cookie values

    one = admin.delete(f"{url}/{sessions[0]['id']}")
    assert one.json() == {"ended": [sessions[0]["id"]]}
    still = [c for c in (author_a, author_b) if c.get(f"{API}/auth/me").status_code == 200]
    assert len(still) == 1
    assert admin.delete(url).json() == {"ended": [sessions[1]["id"]]}
    assert author_a.get(f"{API}/auth/me").status_code == 401
    assert author_b.get(f"{API}/auth/me").status_code == 401
    after = admin.get(url).json()
    assert [(s["active"], s["revoked_reason"]) for s in after] == [(False, "admin")] * 2
    records = _records(rt, "auth.sessions_ended")
    assert [r["payload"]["session_ids"] for r in records] == [
        [sessions[0]["id"]],
        [sessions[1]["id"]],
    ]
    assert admin.get(f"{API}/admin/users/999999/sessions").json()["code"] == "user_not_found"
    other = admin.delete(f"{API}/admin/users/{demo.people['prezes']}/sessions/{sessions[0]['id']}")
    assert other.json()["code"] == "session_not_found"


@pytest.mark.parametrize("who", ["recenzent", "wojt"])
def test_only_an_e_izba_admin_may_see_or_end_sessions(
    servers: tuple[Server, Server], demo: DemoIds, who: str
) -> None:
    a, b = servers
    victim = _login(a, "prezes")
    url = f"{API}/admin/users/{demo.people['prezes']}/sessions"
    intruder = _login(b, who)
    for r in (intruder.get(url), intruder.delete(url)):
        assert r.status_code == 403
        assert r.json()["code"] == "sessions_need_chamber_admin"
    assert victim.get(f"{API}/auth/me").status_code == 200


def test_failed_logins_on_both_servers_lock_the_account_with_a_429(
    servers: tuple[Server, Server], rt: Runtime
) -> None:
    a, b = servers
    wrong = {"email": EMAILS["recenzent"], "password": "nie-to-haslo"}
    answers = [s().post(f"{API}/auth/login", json=wrong) for s in (a, b, a)]  # limit: 3
    assert [r.status_code for r in answers] == [401, 401, 401]
    right = {"email": EMAILS["recenzent"], "password": DEMO_PASSWORD}
    for server in (a, b):  # even the right password is refused now, on either server
        r = server().post(f"{API}/auth/login", json=right, headers={"Accept-Language": "pl"})
        assert r.status_code == 429
        body = r.json()
        assert body["code"] == "login_rate_limited"
        assert body["kind"] == "too_many_requests"
        retry = int(r.headers["retry-after"])
        assert 0 < retry <= rt.settings.identity.login_lockout_s
        assert body["params"] == {"retry_after_s": retry}
        assert body["detail"].startswith("Zbyt wiele nieudanych logowań")
        assert SESSION_COOKIE not in r.cookies
    assert _login(a, "autor")  # another account from the same address is not locked
    [lock] = _records(rt, "auth.login_locked")
    assert lock["payload"]["scope"] == "account"
    assert lock["payload"]["login"] == EMAILS["recenzent"]
    assert lock["payload"]["failures"] == 3
    assert len(_records(rt, "auth.login_failed")) == 3  # refused attempts cost no record


def test_a_success_before_the_limit_starts_the_count_again(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers
    wrong = {"email": EMAILS["archiwista"], "password": "nie-to-haslo"}
    for server in (a, b):
        assert server().post(f"{API}/auth/login", json=wrong).status_code == 401
    _login(a, "archiwista")
    for server in (a, b):
        assert server().post(f"{API}/auth/login", json=wrong).status_code == 401
    assert _login(b, "archiwista")


def test_an_address_is_locked_after_its_own_limit(rt: Runtime, demo: DemoIds) -> None:
    settings = rt.settings.model_copy(
        update={
            "identity": rt.settings.identity.model_copy(update={"login_max_failures_per_client": 2})
        }
    )
    app = create_app(settings, runtime=dataclasses.replace(rt, settings=settings))
    with TestClient(app) as client:
        for who in ("autor", "recenzent"):  # different accounts, one address
            r = client.post(f"{API}/auth/login", json={"email": EMAILS[who], "password": "x"})
            assert r.status_code == 401
        r = client.post(
            f"{API}/auth/login", json={"email": EMAILS["wojt"], "password": DEMO_PASSWORD}
        )
        assert r.status_code == 429
    [lock] = _records(rt, "auth.login_locked")
    assert lock["payload"]["scope"] == "client"
    assert lock["payload"]["client"] == "testclient"


def test_the_cookie_is_secure_when_the_setting_says_tls_is_in_front(
    rt: Runtime, demo: DemoIds
) -> None:
    for secure in (False, True):
        settings = rt.settings.model_copy(
            update={"identity": rt.settings.identity.model_copy(update={"secure_cookies": secure})}
        )
        app = create_app(settings, runtime=dataclasses.replace(rt, settings=settings))
        with TestClient(app) as client:  # plain http, as behind a proxy that ends TLS
            r = client.post(
                f"{API}/auth/login", json={"email": EMAILS["autor"], "password": DEMO_PASSWORD}
            )
        cookie = r.headers["set-cookie"].lower()
        assert ("; secure" in cookie) is secure
        assert "httponly" in cookie and "samesite=lax" in cookie
