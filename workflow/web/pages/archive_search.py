"""Search (``/search``): documents and the archive found the way a Polish speaker asks
("Rybnik" finds "w Rybniku"), narrowed by filters that show how many results each value
has, ranked, each with a snippet of its own words with the matches marked.

A GET form: it works without JavaScript, its address can be bookmarked and shared, and
every filter is a checkbox named after its facet (``?q=Rybnik&category=A&year=2026``).
Everything goes through ``search.query.search`` with the signed-in person as the actor, so
the results, the counts and the snippets come only from what that person may see.
A query the index refuses (too long, an unknown filter) is shown beside the field.
Its words are in ``ui_archive.po``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from fastapi import Request, Response

from workflow.errors import InvalidInput
from workflow.i18n import ui_text
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.search.index import FACETS
from workflow.search.query import SearchPage, search
from workflow.web.deps import RuntimeDep
from workflow.web.pages.deps import PageActor, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])

PAGE_SIZE: Final = 20
VALUES_SHOWN: Final = 12
"""The most values a filter lists (the most frequent first)."""

FACET_LABELS: Final = {
    "kind": "Kind of document",
    "status": "Status",
    "organisation": "Local government or organisation",
    "teryt": "TERYT code",
    "voivodeship": "Voivodeship",
    "signatory": "Signed by",
    "year": "Year",
    "jrwa": "JRWA symbol",
    "category": "Archival category",
}
"""msgids of ui_archive.po, in the order the filters are shown."""

VALUE_LABELS: Final = {
    "kind": {
        "letter_of_intent": "Letter of intent",
        "e_strategy": "E-strategy",
        "agreement": "Agreement",
    },
    "category": {
        "A": "A — kept forever",
        "B": "B — destroyed after the period",
        "BE": "BE — the state archive decides",
        "BC": "Bc — short-lived",
    },
}


@dataclass(frozen=True)
class FilterValue:
    value: str
    label: str
    count: int
    checked: bool


@dataclass(frozen=True)
class Filter:
    facet: str
    label: str
    values: list[FilterValue]


def chosen_filters(request: Request) -> dict[str, list[str]]:
    """The filters of the address: every known facet's checked values."""
    query = request.query_params
    return {f: [v for v in query.getlist(f) if v] for f in FACETS if query.getlist(f)}


def _filters(page: SearchPage, chosen: Mapping[str, list[str]], lang: str) -> list[Filter]:
    shown = []
    for facet in FACET_LABELS:
        counts = page.facets.get(facet, {})
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:VALUES_SHOWN]
        picked = set(chosen.get(facet, ()))
        for value in picked - {v for v, _ in ranked}:
            ranked.append((value, counts.get(value, 0)))  # a chosen value stays visible
        if not ranked:
            continue
        labels = VALUE_LABELS.get(facet, {})
        values = [
            FilterValue(v, ui_text(labels[v], lang) if v in labels else v, n, v in picked)
            for v, n in ranked
        ]
        shown.append(Filter(facet, ui_text(FACET_LABELS[facet], lang), values))
    return shown


def _page_url(q: str, chosen: Mapping[str, list[str]], number: int) -> str:
    pairs = [("q", q)] + [(f, v) for f, values in chosen.items() for v in values]
    if number > 1:
        pairs.append(("page", str(number)))
    return "/search?" + urlencode(pairs)


@router.get("/search")
def search_page(request: Request, actor: PageActor, rt: RuntimeDep, q: str = "") -> Response:
    lang = page_language(request)
    chosen = chosen_filters(request)
    raw_page = request.query_params.get("page", "1")
    number = max(1, int(raw_page)) if raw_page.isdigit() else 1
    error = None
    result: SearchPage | None = None
    if q.strip():
        try:
            result = _search(rt, actor, q, chosen, number)
        except InvalidInput as exc:
            error = exc.message(lang)
    pages = -(-result.total // PAGE_SIZE) if result else 0
    return render_page(
        request, "archive/search.html", status_code=422 if error else 200,
        q=q, error=error, result=result, filters=_filters(result, chosen, lang) if result else [],
        number=number, pages=pages,
        previous_url=_page_url(q, chosen, number - 1) if number > 1 else None,
        next_url=_page_url(q, chosen, number + 1) if number < pages else None,
        kind_labels=VALUE_LABELS["kind"],
    )  # fmt: skip


def _search(
    rt: Runtime, actor: Actor, q: str, chosen: Mapping[str, list[str]], number: int
) -> SearchPage:
    with rt.read_sessions() as session:
        return search(
            session, q, chosen, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, actor=actor
        )
