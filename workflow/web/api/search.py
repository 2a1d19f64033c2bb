"""``GET /api/v1/search``: documents and archive records found the Polish way, with the
counts of every filter value; only what the caller may see (``search.query.search``).

A query is read as plain words whatever it holds (operators, quotes, brackets); one over
``MAX_QUERY_LENGTH`` characters is a 422 ``search_query_too_long``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from workflow.search.query import MAX_LIMIT, search_in
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.schemas import Outgoing

router = APIRouter(tags=["search"])

Values = Annotated[list[str], Query()]


class SearchResultOut(Outgoing):
    entry_id: int
    document_id: int | None
    archive_record_id: int | None
    title: str
    file_name: str | None
    kind: str
    status: str | None
    year: int | None
    score: float
    snippet: str
    """HTML: the original words, escaped, the matched ones in <mark>."""


class SearchOut(Outgoing):
    query: str
    total: int
    results: list[SearchResultOut]
    facets: dict[str, dict[str, int]]
    """filter -> value -> number of matches (with the filters given)."""
    facets_sampled: bool
    """True: the counts are of the newest 2,000 matches (FACET_WINDOW), not of all."""


@router.get("/search", response_model=SearchOut)
def search_documents(
    actor: CurrentActor,
    rt: RuntimeDep,
    q: Annotated[str, Query(description="words, in any grammatical form")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    kind: Values = [],  # noqa: B006  # FastAPI copies query defaults
    status: Values = [],  # noqa: B006
    organisation: Values = [],  # noqa: B006
    teryt: Values = [],  # noqa: B006
    voivodeship: Values = [],  # noqa: B006
    signatory: Values = [],  # noqa: B006
    year: Values = [],  # noqa: B006
    jrwa: Values = [],  # noqa: B006
    category: Values = [],  # noqa: B006
) -> SearchOut:
    filters = {
        "kind": kind, "status": status, "organisation": organisation, "teryt": teryt,
        "voivodeship": voivodeship, "signatory": signatory, "year": year, "jrwa": jrwa,
        "category": category,
    }  # fmt: skip
    page = search_in(rt, q, filters, limit=limit, offset=offset, actor=actor)
    return SearchOut.of(page)
