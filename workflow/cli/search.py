"""``estrategia search QUERY`` and ``estrategia search reindex``: the Polish full-text index.

The command line runs as the system: it sees every document and record (like the other
commands that read the database; whoever runs it holds the database anyway). Results come
from ``workflow.search.query.search``, the same as the API and the pages.

Exit codes: 0 done (no result is not an error); 2 a query over the allowed length, an
unknown filter or a database that was not upgraded.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from html import unescape
from typing import TYPE_CHECKING, Any, TextIO

from workflow.config import Settings

if TYPE_CHECKING:
    from workflow.search.query import SearchPage, SearchResult

FILTER_OPTIONS: dict[str, str] = {
    "kind": "document kind (letter_of_intent, agreement...)",
    "status": "workflow status (draft, signed, archived...)",
    "organisation": "a party's name, e.g. 'Miasto Rybnik'",
    "teryt": "a party's TERYT code, e.g. 2473011",
    "voivodeship": "e.g. śląskie",
    "signatory": "a signatory's full name",
    "year": "e.g. 2026",
    "jrwa": "JRWA symbol of an archived record",
    "category": "archival category (A, B, BE, BC)",
}
_MARK = re.compile(r"</?mark>")


def register(sub: Any) -> None:
    """Add ``search`` to the top-level subcommands."""
    p = sub.add_parser(
        "search",
        help="find documents and archive records (Polish-aware); 'search reindex' rebuilds",
        description="Find documents and archive records: words in any grammatical form "
        "('Rybnik' finds 'w Rybniku'). 'estrategia search reindex' rebuilds the index "
        "(use --query reindex to search for that word).",
    )
    p.add_argument("words", nargs="*", metavar="QUERY", help="the words to find")
    p.add_argument("--query", "-q", help="the query as one argument (instead of QUERY)")
    p.add_argument("--limit", type=_positive, default=20, help="results to show (default 20)")
    p.add_argument("--offset", type=int, default=0, help="results to skip (paging)")
    p.add_argument("--json", action="store_true", help="a JSON list of results")
    for name, what in FILTER_OPTIONS.items():
        p.add_argument(f"--{name}", action="append", default=[], metavar="VALUE", help=what)
    p.set_defaults(func=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(settings: Settings, args: argparse.Namespace) -> int:
    from workflow.migrate import require_migrated

    require_migrated(settings)
    if args.query is None and args.words == ["reindex"]:
        return reindex(settings, sys.stderr)
    query = args.query if args.query is not None else " ".join(args.words)
    if not query.strip():
        print("error: give the words to find (estrategia search QUERY)", file=sys.stderr)
        return 2
    filters = {name: getattr(args, name) for name in FILTER_OPTIONS if getattr(args, name)}
    page = _search(settings, query, filters, args.limit, args.offset)
    if args.json:
        print(json.dumps([as_json(r) for r in page.results], ensure_ascii=False, indent=2))
    else:
        print_page(page, sys.stdout)
    return 0


def _search(
    settings: Settings, query: str, filters: dict[str, list[str]], limit: int, offset: int
) -> SearchPage:
    from workflow.runtime import build_runtime
    from workflow.search.query import search_in

    rt = build_runtime(settings)
    try:
        return search_in(rt, query, filters, limit=limit, offset=offset, actor=None, facets=False)
    finally:
        rt.close()


def as_json(r: SearchResult) -> dict[str, Any]:
    """One result of ``--json``: ids, title, file name, score and the HTML snippet."""
    item: dict[str, Any] = {"document_id": r.document_id}
    if r.archive_record_id is not None:
        item["archive_record_id"] = r.archive_record_id
    item.update(
        title=r.title, file_name=r.file_name, kind=r.kind, status=r.status, year=r.year,
        score=r.score, snippet=r.snippet,
    )  # fmt: skip
    return item


def print_page(page: SearchPage, out: TextIO) -> None:
    """Results for a terminal: title and ids, then the snippet with the matches in
    [brackets] (bold on a TTY)."""
    tty = out.isatty()
    for r in page.results:
        ids = [f"document {r.document_id}" if r.document_id is not None else ""]
        if r.archive_record_id is not None:
            ids.append(f"archive record {r.archive_record_id}")
        where = ", ".join(i for i in ids if i)
        print(f"{r.title}  ({where}; {r.file_name or '-'}; score {r.score:.3f})", file=out)
        print(f"    {terminal_snippet(r.snippet, bold=tty)}", file=out)
    shown = len(page.results)
    print(f"{page.total} found" + (f", {shown} shown" if shown < page.total else ""), file=out)


def terminal_snippet(snippet: str, *, bold: bool) -> str:
    opening, closing = ("\x1b[1m", "\x1b[0m") if bold else ("[", "]")
    parts = _MARK.split(snippet)
    marks = _MARK.findall(snippet)
    out = [unescape(parts[0])]
    for tag, text in zip(marks, parts[1:], strict=True):
        out.append((opening if tag == "<mark>" else closing) + unescape(text))
    return "".join(out)


def reindex(settings: Settings, out: TextIO) -> int:
    """Rebuild every entry; a progress bar on a terminal, then one line."""
    import workflow.archive  # noqa: F401  # registers its records' reindexer (REINDEXERS)
    from workflow.cli.archive_import import Progress
    from workflow.runtime import build_runtime
    from workflow.search.index import reindex as rebuild

    rt = build_runtime(settings)
    bar: Progress | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if not out.isatty():
            return
        if bar is None or bar.total != max(total, 1):
            bar = Progress(total, out)
        bar.show(done, "")

    try:
        written = rebuild(rt, progress)
    finally:
        rt.close()
    if bar is not None:
        bar.close()
    print(f"search index rebuilt: {written} entries", file=sys.stdout)
    return 0
