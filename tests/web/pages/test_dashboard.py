"""The dashboard and the list of documents: my tasks only when they are mine, counts by
status, recent activity, and nothing of another municipality's documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, update

from tests.web.conftest import API, Login, letter_body
from tests.web.pages.conftest import PageLogin
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.dashboard import dashboard
from workflow.identity.accounts import actor_for_user
from workflow.models import Document, DocumentSignatory
from workflow.runtime import Runtime
from workflow.states import Status


def _set_status(rt: Runtime, doc_id: int, status: Status) -> None:
    """Put a document in a status without rendering it (the lifecycle is tested elsewhere;
    here only what the dashboard reads matters)."""
    with transaction(rt.sessions) as session:
        session.execute(update(Document).where(Document.id == doc_id).values(status=status))


def _section(html: str, heading: str) -> str:
    start = html.index(heading)
    end = html.find("<h3>", start + 1)
    return html[start : end if end != -1 else len(html)]


def test_tasks_counts_and_activity(
    page_login: PageLogin, login: Login, demo: DemoIds, rt: Runtime, letter: dict[str, Any]
) -> None:
    doc_id = letter["id"]
    _set_status(rt, doc_id, Status.IN_REVIEW)
    reviewer = page_login("recenzent").get("/").text
    assert "Do recenzji" in reviewer
    assert f'href="/documents/{doc_id}"' in _section(reviewer, "Do recenzji")
    # The author wrote the version: no review task for her, whatever her roles.
    author = page_login("autor").get("/").text
    assert "Do recenzji" not in author
    assert "Nic na Ciebie nie czeka." in author
    assert 'href="/documents?status=in_review"' in author
    # Recent activity: who created it, shown by name (never by e-mail).
    assert "Ostatnie zdarzenia" in author
    assert "Katarzyna Zielińska" in author and "utworzył(a) dokument" in author

    _set_status(rt, doc_id, Status.CHANGES_REQUESTED)
    assert "Prośby o zmiany do mnie" in page_login("autor").get("/").text
    assert "Prośby o zmiany do mnie" not in page_login("recenzent").get("/").text


def test_sign_task_only_on_my_turn(
    page_login: PageLogin, demo: DemoIds, rt: Runtime, letter: dict[str, Any]
) -> None:
    doc_id = letter["id"]
    _set_status(rt, doc_id, Status.AWAITING_SIGNATURES)
    assert "Do podpisu: Twoja kolej" in page_login("prezes").get("/").text
    mayor = page_login("prezydent")
    assert "Do podpisu: Twoja kolej" not in mayor.get("/").text  # e-Izba signs first
    with transaction(rt.sessions) as session:
        session.execute(
            update(DocumentSignatory)
            .where(
                DocumentSignatory.document_id == doc_id,
                DocumentSignatory.user_id == demo.people["prezes"],
            )
            .values(signed_at=datetime.now(UTC))
        )
    assert "Do podpisu: Twoja kolej" in mayor.get("/").text
    assert "Do podpisu: Twoja kolej" not in page_login("prezes").get("/").text


def test_another_municipality_sees_nothing_of_rybnik(
    page_login: PageLogin, letter: dict[str, Any]
) -> None:
    wojt = page_login("wojt")
    for path in ("/", "/documents", "/documents?status=draft"):
        html = wojt.get(path).text
        assert letter["title"] not in html, path
        assert f"/documents/{letter['id']}" not in html, path
    assert "Nie ma jeszcze dokumentów." in wojt.get("/").text
    # Rybnik's own mayor sees it: a party.
    assert letter["title"] in page_login("prezydent").get("/documents").text


def test_documents_list_filters_and_pages(
    page_login: PageLogin, login: Login, demo: DemoIds, rt: Runtime
) -> None:
    author = login("autor")
    ids = []
    for n in range(23):
        r = author.post(
            f"{API}/documents", json=letter_body(demo, title=f"List intencyjny nr {n:02d}")
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    _set_status(rt, ids[0], Status.IN_REVIEW)
    client = page_login("autor")
    first = client.get("/documents").text
    assert "Znalezione dokumenty: 23" in first
    assert first.count("<tr>") == 21  # the header and 20 rows
    assert 'href="/documents?page=2"' in first
    second = client.get("/documents?page=2").text
    assert second.count("<tr>") == 4
    assert 'href="/documents?page=1"' in second
    in_review = client.get("/documents?status=in_review").text
    assert "Znalezione dokumenty: 1" in in_review and "List intencyjny nr 00" in in_review
    assert client.get("/documents?status=nonsense").status_code == 200  # ignored: all


def test_dashboard_reads_in_a_few_queries(
    rt: Runtime, demo: DemoIds, login: Login, letter: dict[str, Any]
) -> None:
    author = login("autor")
    for n in range(10):
        author.post(f"{API}/documents", json=letter_body(demo, title=f"Dokument {n}"))
    actor = actor_for_user(rt, demo.people["prezes"])
    assert actor is not None
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = rt.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        board = dashboard(rt, actor=actor)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert board.total == 11
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 5, selects  # review, sign, changes, counts, activity: no N+1


@pytest.mark.parametrize("who", ["recenzent", "autor", "wojt", "prezydent"])
def test_admin_page_refused_to_non_admins(page_login: PageLogin, who: str) -> None:
    client = page_login(who)
    r = client.get("/admin/people")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "Tylko administrator biura e-Izby" in r.text
    assert 'href="/admin/people"' not in client.get("/").text  # not offered in the menu
