"""Searching the index: :func:`search` is the one entry point (CLI, API and pages).

The query is read as plain words, whatever it holds (FTS operators, quotes, brackets and
punctuation are separators): each word becomes the set of its index terms
(``workflow.polish.lemmas.query_terms``), the sets are ANDed and the terms of a set ORed.
The match expression is built from those terms alone (lowercase letters and digits), so
nothing the user types reaches the FTS syntax. Ranked by bm25 on SQLite FTS5 and by
ts_rank on PostgreSQL; snippets are cut from the stored original text by
``workflow.search.snippets``, the same on both. Results are limited to what the actor may
see: a workflow document by the documents' own rule (``visible_documents_clause``), an
entry without one by its ``owner_organisation_id`` (the same organisation rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Float, Integer, Select, and_, func, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from workflow.db import transaction
from workflow.errors import ErrorCode, InvalidInput
from workflow.identity.actors import Actor, visible_documents_clause
from workflow.models import Document
from workflow.models.search import SearchEntry, SearchValue
from workflow.polish.lemmas import query_terms
from workflow.runtime import Runtime
from workflow.search.index import FACETS, facet_token
from workflow.search.snippets import snippet

Ts = TypeVarTuple("Ts")

MAX_QUERY_LENGTH = 500
"""Longer queries are refused (422): nobody types more, and each word costs a lookup."""
MAX_LIMIT = 100
RANK_WINDOW = 5_000
"""Of more matches than this, the newest RANK_WINDOW (by entry id) are ranked first and the
older ones after them, ranked among themselves: ranking costs about a microsecond a match,
and a query matching that many entries is made of words so common that their rank says
little (FTS5's bm25 gives a word in over half the entries almost no weight). ``total`` and
the facets count every match."""
FACET_WINDOW = 2_000
"""Of more matches than this, the facets count the newest FACET_WINDOW (``facets_sampled``):
counting costs about a microsecond per match and filter value (200 ms for 20,000 matches)."""
MAX_WORDS = 32
"""Words beyond this are ignored (a 500-character query of one-letter words)."""


@dataclass(frozen=True)
class SearchResult:
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
    """HTML: the original words, escaped, the matched ones in ``<mark>``."""


@dataclass(frozen=True)
class SearchPage:
    query: str
    total: int
    results: list[SearchResult]
    facets: dict[str, dict[str, int]]
    """facet -> value -> number of matching entries (all filters applied)."""
    facets_sampled: bool = False
    """The counts are those of the newest FACET_WINDOW matches, not of all ``total``."""


@dataclass(frozen=True)
class Criteria:
    """What an entry must hold: a term of every group of ``words`` (a query word's terms)
    and a token of every group of ``filters`` (the accepted values of one filter)."""

    words: Sequence[frozenset[str]]
    filters: Sequence[frozenset[str]]


def criteria(groups: Sequence[frozenset[str]], filters: Mapping[str, Sequence[str]]) -> Criteria:
    tokens = [frozenset(facet_token(f, v) for v in values) for f, values in filters.items()]
    return Criteria(groups, tokens)


def check_query(query: str) -> None:
    """InvalidInput (422) for a query over :data:`MAX_QUERY_LENGTH` characters."""
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            "q", ErrorCode.SEARCH_QUERY_TOO_LONG, length=len(query), max_length=MAX_QUERY_LENGTH
        )


def check_filters(filters: Mapping[str, Sequence[str]]) -> None:
    """InvalidInput for a filter that does not exist."""
    for facet in filters:
        if facet not in FACETS:
            raise InvalidInput(facet, ErrorCode.SEARCH_FILTER_UNKNOWN, known=", ".join(FACETS))


def search(
    session: Session,
    query: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    actor: Actor | None,
    facets: bool = True,
) -> SearchPage:
    """The entries matching ``query`` and ``filters`` (facet -> accepted values; values of
    one facet ORed, facets ANDed) that ``actor`` may see (None: the system, sees all),
    best first (of more than RANK_WINDOW matches, the newest RANK_WINDOW first). ``total``
    counts every match; ``facets`` too, up to FACET_WINDOW matches, then the newest
    FACET_WINDOW (``facets_sampled``); ``facets=False``: no counts per value, for callers
    that show none, such as the CLI. A query with no words matches nothing."""
    check_query(query)
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    check_filters(filters)
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    groups = query_terms(query)[:MAX_WORDS]
    if not groups:
        return SearchPage(query, 0, [], {})
    wanted = criteria(groups, filters)
    found = _matches(session, wanted, ranked=False)
    total = session.scalar(_restrict(select(func.count()), found, actor)) or 0
    # Of many matches, the newest RANK_WINDOW are ranked first (see RANK_WINDOW).
    cutoff = _newest(session, found, actor, RANK_WINDOW) if total > RANK_WINDOW else None
    best = _ranked_page(session, wanted, actor, cutoff, limit=limit, offset=offset)
    ids = [i for i, _ in best]
    loaded = {e.id: e for e in session.scalars(select(SearchEntry).where(SearchEntry.id.in_(ids)))}
    terms = frozenset().union(*groups)
    results = [_result(loaded[i], float(score), terms) for i, score in best if i in loaded]
    counts: dict[str, dict[str, int]] = {}
    sampled = facets and total > FACET_WINDOW
    if facets:
        newest = _newest(session, found, actor, FACET_WINDOW) if sampled else None
        counted = _matches(session, wanted, ranked=False, bounds=(newest, None))
        counts = _facets(session, counted, actor)
    return SearchPage(query, total, results, counts, facets_sampled=sampled)


def search_in(
    rt: Runtime,
    query: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    actor: Actor | None,
    facets: bool = True,
) -> SearchPage:
    """:func:`search` in a read transaction of its own (for the API and the CLI)."""
    with transaction(rt.read_sessions) as session:
        return search(
            session, query, filters, limit=limit, offset=offset, actor=actor, facets=facets
        )


def _result(entry: SearchEntry, score: float, terms: frozenset[str]) -> SearchResult:
    return SearchResult(
        entry_id=entry.id,
        document_id=entry.document_id,
        archive_record_id=entry.archive_record_id,
        title=entry.title,
        file_name=entry.file_name,
        kind=entry.kind,
        status=entry.status,
        year=entry.year,
        score=round(score, 6),
        snippet=snippet(entry.body, terms),
    )


def _newest(session: Session, found: Subquery, actor: Actor | None, count: int) -> int | None:
    """The id of the ``count``-th newest match (entries from it on are the newest)."""
    return session.scalar(
        _restrict(select(found.c.entry_id), found, actor)
        .order_by(found.c.entry_id.desc())
        .offset(count - 1)
        .limit(1)
    )


def _ranked_page(
    session: Session,
    wanted: Criteria,
    actor: Actor | None,
    cutoff: int | None,
    *,
    limit: int,
    offset: int,
) -> list[tuple[int, float]]:
    """(entry id, score) of one page: best first among the entries from ``cutoff`` on (the
    newest RANK_WINDOW), then best first among the older ones (None: all at once)."""
    if cutoff is None:
        return _best(session, wanted, actor, (None, None), limit, offset)
    page: list[tuple[int, float]] = []
    if offset < RANK_WINDOW:
        page = _best(session, wanted, actor, (cutoff, None), limit, offset)
    if len(page) < limit and offset + limit > RANK_WINDOW:
        rest = max(0, offset - RANK_WINDOW)
        page += _best(session, wanted, actor, (None, cutoff), limit - len(page), rest)
    return page


def _best(
    session: Session,
    wanted: Criteria,
    actor: Actor | None,
    bounds: tuple[int | None, int | None],
    limit: int,
    offset: int,
) -> list[tuple[int, float]]:
    ranked = _matches(session, wanted, ranked=True, bounds=bounds)
    # Ids and scores only: the sort holds two numbers a match, not its text.
    rows = session.execute(
        _restrict(select(ranked.c.entry_id, ranked.c.score), ranked, actor)
        .order_by(ranked.c.score.desc(), ranked.c.entry_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [(int(i), float(score)) for i, score in rows]


def _matches(
    session: Session,
    wanted: Criteria,
    *,
    ranked: bool,
    bounds: tuple[int | None, int | None] = (None, None),
) -> Subquery:
    """(entry_id, score) of the entries meeting ``wanted``, with ids in ``bounds`` (from,
    before); the score (higher is better) is 0 unless ``ranked``. The filter tokens weigh
    nothing in the rank."""
    pg = _postgresql(session)
    rowid = "e.id" if pg else "rowid"
    since = "" if bounds[0] is None else f" AND {rowid} >= :since"
    since += "" if bounds[1] is None else f" AND {rowid} < :before"
    if pg:
        groups = [*wanted.words, *wanted.filters]
        tsquery = " & ".join("(" + " | ".join(sorted(g)) + ")" for g in groups)
        score = "ts_rank('{0, 0, 0, 1}', e.tsv, q.q)" if ranked else "0.0"
        sql = text(
            f"SELECT e.id AS entry_id, {score} AS score "  # noqa: S608  # no user text
            f"FROM search_entries e, to_tsquery('simple', :q) AS q(q) WHERE e.tsv @@ q.q{since}"
        ).bindparams(q=tsquery)
    else:
        # No column filters (they cost a third more): word terms and filter tokens never
        # meet, and bm25 gives the filter column no weight.
        match = _fts_and([*wanted.words, *wanted.filters])
        score = "-bm25(search_fts, 1.0, 0.0)" if ranked else "0.0"
        sql = text(
            f"SELECT rowid AS entry_id, {score} AS score "  # noqa: S608  # no user text
            f"FROM search_fts WHERE search_fts MATCH :q{since}"
        ).bindparams(q=match)
    if bounds[0] is not None:
        sql = sql.bindparams(since=bounds[0])
    if bounds[1] is not None:
        sql = sql.bindparams(before=bounds[1])
    return sql.columns(entry_id=Integer, score=Float).subquery("matches")


def _fts_and(groups: Sequence[frozenset[str]]) -> str:
    """FTS5: every group, any term of a group (terms are letters and digits only)."""
    return " AND ".join("(" + " OR ".join(f'"{t}"' for t in sorted(g)) + ")" for g in groups)


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _restrict(query: Select[*Ts], matches: Subquery, actor: Actor | None) -> Select[*Ts]:
    """``query`` over ``matches`` kept to the entries ``actor`` may see (the filters are in
    the match itself); the entries table is joined only for the visibility rule."""
    query = query.select_from(matches)
    if actor is not None:
        query = query.join(SearchEntry, SearchEntry.id == matches.c.entry_id).where(
            visible_entries_clause(actor)
        )
    return query


def visible_entries_clause(actor: Actor) -> ColumnElement[bool]:
    """Entries the actor may see: the documents' rule, or the owner's for the archive."""
    documents = select(Document.id).where(visible_documents_clause(actor))
    return or_(
        and_(SearchEntry.document_id.is_not(None), SearchEntry.document_id.in_(documents)),
        and_(
            SearchEntry.document_id.is_(None),
            SearchEntry.owner_organisation_id.in_(list(actor.member_of)),
        ),
    )


def _facets(session: Session, matches: Subquery, actor: Actor | None) -> dict[str, dict[str, int]]:
    counted = select(SearchValue.facet, SearchValue.value, func.count()).join(
        SearchValue, SearchValue.entry_id == matches.c.entry_id
    )
    rows = session.execute(
        _restrict(counted, matches, actor).group_by(SearchValue.facet, SearchValue.value)
    ).all()
    out: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for facet, value, count in sorted(rows, key=lambda r: (r[0], -r[2], r[1])):
        out.setdefault(facet, {})[value] = count
    return {facet: values for facet, values in out.items() if values}
