"""The audit trail of a document shows each actor as the directory shows them to the
caller: a mayor reads the names and functions of e-Izba staff, never their e-mail."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.letters import rybnik_letter
from workflow import audit
from workflow.db import transaction
from workflow.demo.data import DEMO_PASSWORD, PEOPLE, DemoIds
from workflow.documents.comments import add_comment
from workflow.documents.reading import document_audit
from workflow.identity.actors import Actor
from workflow.registry.directory import list_people
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.web import create_app


def _reviewed_letter(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> int:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    transition(rt, actor=actors["recenzent"], document_id=doc.id, action="approve")
    add_comment(rt, actor=actors["prezydent"], document_id=doc.id, body="Zgoda, podpiszę.")
    return doc.id


def _staff_emails(actors: dict[str, Actor]) -> set[str]:
    return {a.email for a in actors.values() if a.chamber_staff}


def test_a_mayor_reads_names_and_functions_never_staff_emails(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    document_id = _reviewed_letter(rt, actors, demo)
    staff_emails = _staff_emails(actors)
    assert staff_emails
    view = document_audit(rt, actor=actors["prezydent"], document_id=document_id)
    text = json.dumps(view, ensure_ascii=False)
    assert not [e for e in staff_emails if e in text]
    names = {p.email: (p.full_name, p.function_title) for p in PEOPLE}
    autor = names[actors["autor"].email]
    created = next(r for r in view if r["action"] == "document.created")
    assert (created["actor"], created["actor_function"], created["actor_email"]) == (*autor, None)
    assert all(r["actor_email"] is None for r in view)

    # The stored records are as they were: the chain is intact and still names the e-mail.
    with transaction(rt.read_sessions) as s:
        assert audit.verify(s).ok
        stored = audit.export(s, document_id=document_id)
    assert stored[0]["actor"] == actors["autor"].email
    assert [r["hash"] for r in stored] == [r["hash"] for r in view]


def test_through_the_api_no_staff_email_reaches_a_mayor(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    document_id = _reviewed_letter(rt, actors, demo)
    with TestClient(create_app(rt.settings, runtime=rt)) as client:
        login = {"email": actors["prezydent"].email, "password": DEMO_PASSWORD}
        assert client.post("/api/v1/auth/login", json=login).status_code == 200
        r = client.get(f"/api/v1/documents/{document_id}/audit")
    assert r.status_code == 200, r.text
    assert not [e for e in _staff_emails(actors) if e in r.text]
    actions = {rec["action"]: rec["actor"] for rec in r.json()}
    assert actions["document.approve"] == actors["recenzent"].full_name


def test_e_izba_staff_see_actors_as_the_directory_shows_them(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    document_id = _reviewed_letter(rt, actors, demo)
    viewer = actors["recenzent"]
    directory = {p.id: p for p in list_people(rt, actor=viewer)}
    view = document_audit(rt, actor=viewer, document_id=document_id)
    seen: list[Any] = []
    for r in view:
        person = directory[r["actor_id"]]
        assert (r["actor"], r["actor_function"], r["actor_email"]) == (
            person.full_name,
            person.function_title,
            person.email,
        )
        seen.append(person.email)
    assert actors["autor"].email in seen and actors["prezydent"].email in seen
