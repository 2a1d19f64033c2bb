"""GET /api/v1/search: results and facets as JSON, only what the caller may see, any query
text answered, an over-long query a 422 that names it (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.jobs.outbox_helpers import run_jobs
from tests.web.conftest import API, Login, app, clients, letter, login  # noqa: F401
from workflow.jobs.dispatch import dispatch_pending
from workflow.runtime import Runtime
from workflow.search.query import MAX_QUERY_LENGTH


@pytest.fixture
def indexed(rt: Runtime, letter: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The Rybnik letter, indexed by its job."""
    dispatch_pending(rt)
    run_jobs(rt)
    return letter


def test_the_author_finds_the_letter_with_its_facets(
    login: Login,  # noqa: F811
    indexed: dict[str, Any],
) -> None:
    r = login("autor").get(f"{API}/search", params={"q": "Rybnik", "voivodeship": "śląskie"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["query"] == "Rybnik"
    (hit,) = body["results"]
    assert hit["document_id"] == indexed["id"] and hit["title"] == indexed["title"]
    assert hit["archive_record_id"] is None and "<mark>Rybnik" in hit["snippet"]
    assert body["facets"]["status"] == {"draft": 1}
    assert body["facets"]["teryt"] == {"2473011": 1}
    none = login("autor").get(f"{API}/search", params={"q": "Rybnik", "year": "1999"})
    assert none.json()["total"] == 0


def test_another_municipality_finds_nothing(
    login: Login,  # noqa: F811
    indexed: dict[str, Any],
) -> None:
    r = login("wojt").get(f"{API}/search", params={"q": "Rybnik"})
    assert r.status_code == 200
    assert r.json() == {
        "query": "Rybnik", "total": 0, "results": [], "facets": {}, "facets_sampled": False,
    }  # fmt: skip
    mayor = login("prezydent").get(f"{API}/search", params={"q": "Rybnik"}).json()
    assert [h["document_id"] for h in mayor["results"]] == [indexed["id"]]


@pytest.mark.parametrize("q", ['Rybnik AND "(', "NOT *", ")))", "!!!", "", "a" * MAX_QUERY_LENGTH])
def test_any_query_text_is_answered(
    login: Login,  # noqa: F811
    indexed: dict[str, Any],
    q: str,
) -> None:
    r = login("autor").get(f"{API}/search", params={"q": q})
    assert r.status_code == 200, r.text


def test_an_over_long_query_is_a_422_naming_it(
    login: Login,  # noqa: F811
    indexed: dict[str, Any],
) -> None:
    r = login("autor").get(f"{API}/search", params={"q": "Rybnik " * 2000})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "search_query_too_long"
    assert str(MAX_QUERY_LENGTH) in body["detail"]


def test_search_needs_a_login(clients: Any) -> None:  # noqa: F811
    assert clients().get(f"{API}/search", params={"q": "Rybnik"}).status_code == 401
