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

from sqlalchemy import ColumnElement, Float, Integer, and_, func, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from workflow.db import transaction
from workflow.errors import ErrorCode, InvalidInput
from workflow.identity.actors import Actor, visible_documents_clause
from workflow.models import Document
from workflow.models.search import SearchEntry, SearchValue
from workflow.polish.lemmas import query_terms
from workflow.runtime import Runtime
from workflow.search.index import FACETS
from workflow.search.snippets import snippet

MAX_QUERY_LENGTH = 500
"""Longer queries are refused (422): nobody types more, and each word costs a lookup."""
MAX_LIMIT = 100
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
) -> SearchPage:
    """The entries matching ``query`` and ``filters`` (facet -> accepted values; values of
    one facet ORed, facets ANDed) that ``actor`` may see (None: the system, sees all),
    best first; ``total`` and ``facets`` count every match, not just this page.
    A query with no words matches nothing."""
    check_query(query)
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    check_filters(filters)
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    groups = query_terms(query)[:MAX_WORDS]
    if not groups:
        return SearchPage(query, 0, [], {})
    matches = _matches(session, groups)
    where = _conditions(filters, actor)
    rows = session.execute(
        select(SearchEntry, matches.c.score)
        .join(matches, matches.c.entry_id == SearchEntry.id)
        .where(*where)
        .order_by(matches.c.score.desc(), SearchEntry.id)
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.scalar(
        select(func.count())
        .select_from(SearchEntry)
        .join(matches, matches.c.entry_id == SearchEntry.id)
        .where(*where)
    )
    terms = frozenset().union(*groups)
    results = [_result(entry, float(score), terms) for entry, score in rows]
    return SearchPage(query, total or 0, results, _facets(session, matches, where))


def search_in(
    rt: Runtime,
    query: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    actor: Actor | None,
) -> SearchPage:
    """:func:`search` in a read transaction of its own (for the API and the CLI)."""
    with transaction(rt.read_sessions) as session:
        return search(session, query, filters, limit=limit, offset=offset, actor=actor)


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


def _matches(session: Session, groups: Sequence[frozenset[str]]) -> Subquery:
    """(entry_id, score) of the entries holding a term of every group; higher is better."""
    if session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join("(" + " | ".join(sorted(g)) + ")" for g in groups)
        sql = text(
            "SELECT e.id AS entry_id, ts_rank(e.tsv, q.q) AS score "
            "FROM search_entries e, to_tsquery('simple', :q) AS q(q) WHERE e.tsv @@ q.q"
        ).bindparams(q=tsquery)
    else:
        match = " AND ".join("(" + " OR ".join(f'"{t}"' for t in sorted(g)) + ")" for g in groups)
        sql = text(
            "SELECT rowid AS entry_id, -bm25(search_fts) AS score "
            "FROM search_fts WHERE search_fts MATCH :q"
        ).bindparams(q=match)
    return sql.columns(entry_id=Integer, score=Float).subquery("matches")


def _conditions(
    filters: Mapping[str, Sequence[str]], actor: Actor | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for facet, values in filters.items():
        having = select(SearchValue.entry_id).where(
            SearchValue.facet == facet, SearchValue.value.in_(list(values))
        )
        conditions.append(SearchEntry.id.in_(having))
    if actor is not None:
        conditions.append(visible_entries_clause(actor))
    return conditions


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


def _facets(
    session: Session, matches: Subquery, where: Sequence[ColumnElement[bool]]
) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(SearchValue.facet, SearchValue.value, func.count())
        .join(SearchEntry, SearchEntry.id == SearchValue.entry_id)
        .join(matches, matches.c.entry_id == SearchEntry.id)
        .where(*where)
        .group_by(SearchValue.facet, SearchValue.value)
    ).all()
    out: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for facet, value, count in sorted(rows, key=lambda r: (r[0], -r[2], r[1])):
        out.setdefault(facet, {})[value] = count
    return {facet: values for facet, values in out.items() if values}
