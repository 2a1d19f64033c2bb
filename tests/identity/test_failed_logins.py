"""Failed logins are in the audit trail, so that an administrator can see an attack: the
account tried and where from, never the password."""

from __future__ import annotations

import json
from typing import Any

from workflow import audit
from workflow.db import transaction
from workflow.demo.data import DEMO_PASSWORD, DemoIds
from workflow.identity.accounts import LOGIN_NAME_LIMIT, login
from workflow.identity.actors import Actor
from workflow.runtime import Runtime


def _records(rt: Runtime, action: str) -> list[dict[str, Any]]:
    with transaction(rt.read_sessions) as s:
        assert audit.verify(s).ok
        return [r for r in audit.export(s) if r["action"] == action]


def test_a_wrong_password_is_recorded_with_the_account_and_the_client(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    mayor = actors["prezydent"]
    guess = "Rybnik2026!"
    typed = f"  {mayor.email.upper()} "
    assert login(rt, email=typed, password=guess, client="203.0.113.7") is None
    [record] = _records(rt, "auth.login_failed")
    assert record["actor_id"] is None
    assert record["actor"] == "anonymous"
    assert record["payload"] == {
        "login": mayor.email,
        "account_id": mayor.user_id,
        "client": "203.0.113.7",
    }
    assert guess not in json.dumps(record)
    assert not _records(rt, "auth.login")


def test_an_unknown_name_is_recorded_cut_short_and_a_password_typed_as_name_is_not(
    rt: Runtime, demo: DemoIds
) -> None:
    long_name = "x" * 300 + "@spam.example"
    assert login(rt, email=long_name, password="whatever") is None
    assert login(rt, email="Tajne.Haslo#2026", password="") is None
    first, second = (r["payload"] for r in _records(rt, "auth.login_failed"))
    assert first["account_id"] is None and first["client"] is None
    assert first["login"] == "x" * LOGIN_NAME_LIMIT + "…"
    assert second["login"] == "<not an e-mail address, 16 characters>"
    everything = json.dumps(_records(rt, "auth.login_failed"))
    assert "tajne" not in everything.lower() and "whatever" not in everything


def test_a_successful_login_is_recorded_as_before(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    logged_in = login(rt, email=actors["autor"].email, password=DEMO_PASSWORD, client="10.0.0.1")
    assert logged_in is not None
    actor = logged_in.actor
    [record] = _records(rt, "auth.login")
    assert (record["actor_id"], record["actor"]) == (actor.user_id, actor.email)
    assert record["payload"] == {"session_id": logged_in.session.id, "client": "10.0.0.1"}
    assert not _records(rt, "auth.login_failed")
