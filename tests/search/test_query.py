"""search(): queries that are not words, over-long queries, filters and their counts, paging,
snippets, and what index_entry keeps (idempotent upsert, delete) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.search.corpus import PARAGRAPHS, found
from workflow.db import transaction
from workflow.errors import ErrorCode, InvalidInput
from workflow.models.search import SearchEntry, SearchValue
from workflow.runtime import Runtime
from workflow.search.index import IndexEntry, IndexParty, delete_entry, index_entry
from workflow.search.query import MAX_QUERY_LENGTH, search

HOSTILE = [
    'Rybnik AND "',
    "Rybnik OR NOT (",
    '"Rybnik',
    "((Rybnik",
    "Rybnik*",
    "NEAR(Rybnik Katowice)",
    "terms:Rybnik",
    "Rybnik -Katowice ^",
    "'; DROP TABLE search_entries; --",
    "Rybnik & | ! :*",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_fts_syntax_is_read_as_words(corpus_rt: Runtime, query: str) -> None:
    with transaction(corpus_rt.read_sessions) as s:
        page = search(s, query, actor=None)
        rybnik = found(s, "Rybnik")
    assert {(r.archive_record_id or 0) - 1 for r in page.results} <= rybnik
    with transaction(corpus_rt.read_sessions) as s:
        assert s.scalar(select(func.count()).select_from(SearchEntry)) == len(PARAGRAPHS)


@pytest.mark.parametrize("query", ["", "   ", "!!! ... ,,, ;;; ???", "„”«»—–", "* ( ) \" '"])
def test_a_query_of_no_words_finds_nothing_and_raises_nothing(
    corpus_rt: Runtime, query: str
) -> None:
    with transaction(corpus_rt.read_sessions) as s:
        page = search(s, query, actor=None)
    assert (page.total, page.results, page.facets) == (0, [], {})


def test_a_query_of_the_longest_allowed_length_is_answered(corpus_rt: Runtime) -> None:
    query = " ".join(["Rybnik"] * 71).ljust(MAX_QUERY_LENGTH, "!")
    assert len(query) == MAX_QUERY_LENGTH
    with transaction(corpus_rt.read_sessions) as s:
        page = search(s, query, actor=None)
        assert page.total == len(found(s, "Rybnik")) > 0


@pytest.mark.parametrize("length", [MAX_QUERY_LENGTH + 1, 10_000])
def test_a_longer_query_is_refused_with_its_length(corpus_rt: Runtime, length: int) -> None:
    with transaction(corpus_rt.read_sessions) as s, pytest.raises(InvalidInput) as caught:
        search(s, "a" * length, actor=None)
    assert caught.value.code == ErrorCode.SEARCH_QUERY_TOO_LONG
    assert caught.value.field == "q"
    assert caught.value.params["length"] == length
    assert str(MAX_QUERY_LENGTH) in str(caught.value)


def test_an_unknown_filter_is_refused_by_name(corpus_rt: Runtime) -> None:
    with transaction(corpus_rt.read_sessions) as s, pytest.raises(InvalidInput) as caught:
        search(s, "Rybnik", {"colour": ["red"]}, actor=None)
    assert caught.value.code == ErrorCode.SEARCH_FILTER_UNKNOWN and caught.value.field == "colour"


def test_facets_count_every_match_and_filters_narrow_them(corpus_rt: Runtime) -> None:
    with transaction(corpus_rt.read_sessions) as s:
        ids = found(s, "gmina")
        page = search(s, "gmina", limit=5, actor=None)
        in_2024 = search(s, "gmina", {"year": ["2024"]}, limit=100, actor=None)
        silesian = search(s, "gmina", {"voivodeship": ["śląskie"]}, limit=100, actor=None)
        both = search(s, "gmina", {"year": ["2024", "2025"], "kind": ["agreement"]}, actor=None)
    assert page.total == len(ids) and len(page.results) == 5
    even = {i for i in ids if i % 2 == 0}
    assert page.facets["year"] == {"2024": len(even), "2025": len(ids) - len(even)}
    assert page.facets["kind"] == {"agreement": len(even), "letter_of_intent": len(ids - even)}
    assert page.facets["category"] == {"A": len(ids)}
    fifth = {i for i in ids if i % 5 == 0}
    assert page.facets["voivodeship"] == {"śląskie": len(fifth)}
    assert page.facets["teryt"] == {"2473011": len(fifth)}
    assert {(r.archive_record_id or 0) - 1 for r in in_2024.results} == even
    assert in_2024.facets["year"] == {"2024": len(even)}
    assert {(r.archive_record_id or 0) - 1 for r in silesian.results} == fifth
    assert both.total == len(even)


def test_results_are_ranked_and_paged_without_overlap(corpus_rt: Runtime) -> None:
    with transaction(corpus_rt.read_sessions) as s:
        first = search(s, "urząd", limit=10, actor=None)
        second = search(s, "urząd", limit=10, offset=10, actor=None)
    scores = [r.score for r in first.results + second.results]
    assert scores == sorted(scores, reverse=True)
    ids = [r.entry_id for r in first.results + second.results]
    assert len(set(ids)) == len(ids) == min(20, first.total)


def test_snippets_mark_the_words_as_written_and_escape_html(bare_rt: Runtime) -> None:
    text = "Umowa <b>ważna</b> & pilna. " + "Słowo. " * 40 + "Spotkanie w Rybniku na Śląsku."
    with transaction(bare_rt.sessions) as s:
        index_entry(s, IndexEntry(title="Tytuł", text=text, kind="agreement", archive_record_id=1))
    with transaction(bare_rt.read_sessions) as s:
        (hit,) = search(s, "Rybnik Śląsk", actor=None).results
        (top,) = search(s, "umowa", actor=None).results
    assert "<mark>Rybniku</mark> na <mark>Śląsku</mark>." in hit.snippet
    assert hit.snippet.startswith("… ") and "<b>" not in hit.snippet
    assert top.snippet.startswith("Tytuł <mark>Umowa</mark> &lt;b&gt;ważna&lt;/b&gt; &amp; pilna.")
    assert top.snippet.endswith(" …")


def test_index_entry_is_an_idempotent_upsert_and_delete_removes_it(bare_rt: Runtime) -> None:
    entry = IndexEntry(
        title="Porozumienie z Gliwicami",
        text="Współpraca z Gliwicami.",
        kind="agreement",
        archive_record_id=42,
        parties=[IndexParty("Miasto Gliwice", "2466011")],
        signatories=["Adam Nowak"],
    )
    with transaction(bare_rt.sessions) as s:
        first = index_entry(s, entry)
        again = index_entry(s, entry)
    with transaction(bare_rt.sessions) as s:
        moved = index_entry(
            s, IndexEntry(title="Porozumienie", text="Spotkanie w Opolu.", kind="agreement",
                          archive_record_id=42)
        )  # fmt: skip
    with transaction(bare_rt.read_sessions) as s:
        assert first == again == moved
        assert s.scalar(select(func.count()).select_from(SearchEntry)) == 1
        assert search(s, "Gliwice", actor=None).total == 0  # the old text is gone from FTS
        assert search(s, "Opole", actor=None).total == 1
        assert s.scalar(select(func.count()).select_from(SearchValue)) == 1  # kind only
    with transaction(bare_rt.sessions) as s:
        assert delete_entry(s, archive_record_id=42)
        assert not delete_entry(s, archive_record_id=42)
    with transaction(bare_rt.read_sessions) as s:
        assert search(s, "Opole", actor=None).total == 0
        assert s.scalar(select(func.count()).select_from(SearchValue)) == 0


def test_an_entry_needs_a_document_or_a_record(bare_rt: Runtime) -> None:
    with transaction(bare_rt.sessions) as s, pytest.raises(ValueError, match="document_id"):
        index_entry(s, IndexEntry(title="t", text="x", kind="agreement"))


def test_past_the_rank_window_the_newest_come_first_and_paging_covers_all(
    corpus_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(corpus_rt.read_sessions) as s:
        everything = found(s, "gmina")
    monkeypatch.setattr("workflow.search.query.RANK_WINDOW", 7)
    pages = []
    with transaction(corpus_rt.read_sessions) as s:
        for offset in range(0, len(everything) + 5, 5):
            pages.append(search(s, "gmina", limit=5, offset=offset, actor=None))
    ids = [(r.archive_record_id or 0) - 1 for p in pages for r in p.results]
    assert len(ids) == len(set(ids)) and set(ids) == everything  # no gap, no repeat
    assert all(p.total == len(everything) for p in pages)
    newest = sorted(everything)[-7:]
    assert sorted(ids[:7]) == newest  # the window first, ranked...
    first = [r.score for p in pages for r in p.results][:7]
    assert first == sorted(first, reverse=True)


def test_facets_of_many_matches_count_the_newest_and_say_so(
    corpus_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(corpus_rt.read_sessions) as s:
        everything = found(s, "gmina")
        exact = search(s, "gmina", actor=None)
    monkeypatch.setattr("workflow.search.query.FACET_WINDOW", 10)
    with transaction(corpus_rt.read_sessions) as s:
        page = search(s, "gmina", actor=None)
    assert not exact.facets_sampled and sum(exact.facets["year"].values()) == len(everything)
    assert page.facets_sampled and page.total == len(everything)
    newest = sorted(everything)[-10:]
    assert page.facets["year"] == {
        year: n
        for year, n in (
            ("2024", sum(1 for i in newest if i % 2 == 0)),
            ("2025", sum(1 for i in newest if i % 2)),
        )
        if n
    }
