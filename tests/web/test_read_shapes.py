"""The reads behind the pages and the API's document reads load what they show
(``workflow.documents.shown``, ``review.overview``, ``documents.dashboard``, the one-query
session check): a bounded number of SQL statements per request that does not grow with a
document's versions, comments and history or with the number of documents; the same things
shown as the ORM view of the document (``DocumentView.of`` after ``load_visible``); and
still nothing of a document to a person of another municipality (404)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html  # type: ignore[import-untyped]  # lxml has no hints
from sqlalchemy import event, select

from tests.web.conftest import API, EMAILS, LETTER_VALUES, letter_body
from tests.web.pages.conftest import sign_in
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.access import (
    DOCUMENT_LOAD,
    VISIBLE,
    document_roles_of,
    load_visible,
    visible_params,
)
from workflow.documents.comments import comments_of, threads
from workflow.documents.reading import audit_of, get_document, history, list_documents
from workflow.identity.actors import Actor, document_roles, visible_documents_clause
from workflow.models import Document
from workflow.review import overview
from workflow.review.overview import document_overview
from workflow.runtime import Runtime
from workflow.views import DocumentView, VersionView
from workflow.web import create_app

#: SELECT statements per request, at most (the session check is one of them).
BOUNDS = {"dashboard": 4, "document page": 8, "api document": 5, "api list": 5}
READERS = ("autor", "recenzent", "prezes", "archiwista", "prezydent")


@pytest.fixture
def quiet_app_clients(rt: Runtime, demo: DemoIds) -> Iterator[Callable[[str], TestClient]]:
    """Clients of the app without its embedded worker (whose polling would be counted),
    each signed in through the login form."""
    settings = rt.settings.model_copy(
        update={"jobs": rt.settings.jobs.model_copy(update={"embedded_worker": False})}
    )
    app = create_app(settings, runtime=dataclasses.replace(rt, settings=settings))
    with ExitStack() as stack:

        def signed_in(who: str) -> TestClient:
            client = stack.enter_context(TestClient(app, headers={"Accept-Language": "pl"}))
            assert sign_in(client, EMAILS[who]).status_code == 303
            return client

        yield signed_in


@contextmanager
def selects(rt: Runtime) -> Iterator[list[str]]:
    """The SELECT statements run on the runtime's engine within the block."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(rt.engine, "before_cursor_execute", on_execute)


def _counts(rt: Runtime, client: TestClient, doc_id: int) -> dict[str, int]:
    paths = {
        "dashboard": "/",
        "document page": f"/documents/{doc_id}",
        "api document": f"{API}/documents/{doc_id}",
        "api list": f"{API}/documents?limit=20",
    }
    counts = {}
    for name, path in paths.items():
        with selects(rt) as seen:
            r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        counts[name] = len(seen)
    return counts


def _grow(client: TestClient, demo: DemoIds, doc_id: int, versions: int, comments: int) -> None:
    for n in range(versions):
        goals = [*LETTER_VALUES["goals"], f"cel {n}"]
        r = client.patch(f"{API}/documents/{doc_id}", json={"values": {"goals": goals}})
        assert r.status_code == 200, r.text
    for n in range(comments):
        r = client.post(f"{API}/documents/{doc_id}/comments", json={"body": f"Uwaga {n}."})
        assert r.status_code == 201, r.text
    for n in range(3):
        r = client.post(f"{API}/documents", json=letter_body(demo, title=f"List nr {n}"))
        assert r.status_code == 201, r.text


def test_statements_per_request_are_bounded_and_do_not_grow(
    rt: Runtime, demo: DemoIds, quiet_app_clients: Callable[[str], TestClient]
) -> None:
    author = quiet_app_clients("autor")
    created = author.post(f"{API}/documents", json=letter_body(demo), headers=_csrf(author))
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]
    before = _counts(rt, author, doc_id)
    assert all(before[k] <= bound for k, bound in BOUNDS.items()), before

    author.headers.update(_csrf(author))
    _grow(author, demo, doc_id, versions=4, comments=3)
    after = _counts(rt, author, doc_id)
    assert after == before, (before, after)


def _csrf(client: TestClient) -> dict[str, str]:
    """The session's CSRF token as the API takes it, read from a page's form."""
    page = client.get("/")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return {"X-CSRF-Token": page.text[start : page.text.index('"', start)]}


def test_other_municipality_gets_404_from_page_and_api_and_no_row_in_lists(
    rt: Runtime, demo: DemoIds, quiet_app_clients: Callable[[str], TestClient]
) -> None:
    author = quiet_app_clients("autor")
    created = author.post(f"{API}/documents", json=letter_body(demo), headers=_csrf(author))
    doc_id = created.json()["id"]
    wojt = quiet_app_clients("wojt")
    for path in (f"/documents/{doc_id}", f"/documents/{doc_id}/versions",
                 f"{API}/documents/{doc_id}", f"{API}/documents/{doc_id}/versions"):  # fmt: skip
        assert wojt.get(path).status_code == 404, path
    assert wojt.get(f"{API}/documents").json() == []
    assert f"/documents/{doc_id}" not in wojt.get("/").text
    assert author.get(f"/documents/{doc_id}").status_code == 200


def _orm_views(rt: Runtime, actor: Actor) -> list[DocumentView]:
    """The views as the ORM with every collection loaded gives them (the reference)."""
    query = (
        select(Document)
        .where(visible_documents_clause(actor))
        .options(*DOCUMENT_LOAD)
        .order_by(Document.updated_at.desc(), Document.id.desc())
    )
    with transaction(rt.read_sessions) as session:
        return [DocumentView.of(d) for d in session.scalars(query)]


def test_column_reads_show_what_the_orm_view_shows(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor],
    quiet_app_clients: Callable[[str], TestClient],
) -> None:  # fmt: skip
    author = quiet_app_clients("autor")
    author.headers.update(_csrf(author))
    doc_id = author.post(f"{API}/documents", json=letter_body(demo)).json()["id"]
    _grow(author, demo, doc_id, versions=2, comments=2)
    for who in (*READERS, "wojt"):
        actor = actors[who]
        reference = _orm_views(rt, actor)
        assert list_documents(rt, actor=actor, limit=200) == reference, who
        for view in reference:
            assert get_document(rt, actor=actor, document_id=view.id) == view, who
        with transaction(rt.read_sessions) as session:
            doc = load_visible(session, actors["autor"], doc_id)
            versions = [VersionView.of(v) for v in doc.versions]
        assert len(versions) == 3
        assert history(rt, actor=actors["autor"], document_id=doc_id) == versions


def test_overview_shows_the_comments_history_and_actions_of_the_full_reads(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor],
    quiet_app_clients: Callable[[str], TestClient],
) -> None:  # fmt: skip
    author = quiet_app_clients("autor")
    author.headers.update(_csrf(author))
    doc_id = author.post(f"{API}/documents", json=letter_body(demo)).json()["id"]
    _grow(author, demo, doc_id, versions=2, comments=2)
    first = author.get(f"{API}/documents/{doc_id}/comments").json()[0]
    reply = {"body": "Odpowiedź.", "parent_id": first["id"]}
    assert author.post(f"{API}/documents/{doc_id}/comments", json=reply).status_code == 201
    for who in READERS:
        actor = actors[who]
        shown = document_overview(rt, actor=actor, document_id=doc_id)
        with transaction(rt.read_sessions) as session:
            doc = load_visible(session, actor, doc_id)
            numbers = {v.id: v.number for v in doc.versions}
            assert shown.comments == threads(comments_of(session, actor, doc_id, numbers))
            full = audit_of(session, actor, doc_id)
            roles = document_roles(actor, doc)
            ids = [s.user_id for s in doc.signatories]
            assert document_roles_of(actor, doc.owner_organisation_id, ids) == roles
        hashes = {"prev_hash", "hash"}
        assert shown.history == [{k: v for k, v in r.items() if k not in hashes} for r in full]
        assert shown.history_complete
        assert [v.number for v in shown.versions] == [1, 2, 3]
        assert shown.document == get_document(rt, actor=actor, document_id=doc_id)


def test_the_page_shows_the_newest_history_limited_in_sql_and_says_so(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch,
    quiet_app_clients: Callable[[str], TestClient],
) -> None:  # fmt: skip
    author = quiet_app_clients("autor")
    author.headers.update(_csrf(author))
    doc_id = author.post(f"{API}/documents", json=letter_body(demo)).json()["id"]
    _grow(author, demo, doc_id, versions=1, comments=3)
    note = "Pokazano tylko najnowsze kroki"
    assert note not in author.get(f"/documents/{doc_id}").text
    monkeypatch.setattr(overview, "HISTORY_LIMIT", 3)
    shown = document_overview(rt, actor=actors["autor"], document_id=doc_id)
    with transaction(rt.read_sessions) as session:
        full = audit_of(session, actors["autor"], doc_id)
    assert len(full) > 3
    assert [r["seq"] for r in shown.history] == [r["seq"] for r in full[-3:]]
    assert not shown.history_complete
    page = author.get(f"/documents/{doc_id}").text
    assert note in page
    assert len(lxml_html.fromstring(page).xpath("//table[@class='history']/tbody/tr")) == 3


def test_the_prebuilt_visibility_finds_what_visible_documents_clause_finds(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor],
    quiet_app_clients: Callable[[str], TestClient],
) -> None:  # fmt: skip
    author = quiet_app_clients("autor")
    author.headers.update(_csrf(author))
    assert author.post(f"{API}/documents", json=letter_body(demo)).status_code == 201
    gaszowice = letter_body(demo, title="List Gaszowic")
    gaszowice["parties"][1] = {"organisation_id": demo.organisations["gaszowice"]}
    gaszowice["signatories"] = gaszowice["signatories"][:1]
    assert author.post(f"{API}/documents", json=gaszowice).status_code == 201, gaszowice
    seen = {}
    with transaction(rt.read_sessions) as session:
        for who, actor in actors.items():
            reference = set(session.scalars(select(Document.id).where(
                visible_documents_clause(actor))))  # fmt: skip
            prebuilt = set(session.scalars(select(Document.id).where(VISIBLE),
                                           visible_params(actor)))  # fmt: skip
            assert prebuilt == reference, who
            seen[who] = len(reference)
    assert seen["autor"] == 2 and seen["prezydent"] == 1 and seen["wojt"] == 1, seen
