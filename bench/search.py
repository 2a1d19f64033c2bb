"""Benchmark: the Polish search over a synthetic archive, SQLite and PostgreSQL in one run.

    .venv/bin/python bench/search.py [--entries 200000] [--runs 5]

Builds ``--entries`` index entries in a fresh SQLite file and in a throwaway PostgreSQL
cluster (as tests/pg.py does), both migrated: each entry is a letter about one of 27
places, 2-4 paragraphs naming it (in every case) and 2-4 general ones (offices, fillers,
distractors: the sentences of tests/search/make_corpus.py), from pools of 3,700 paragraphs
whose terms ``workflow.polish.lemmas`` makes once (then joined: the same text as indexing
each entry would give),
with filter values (kind, status, year, voivodeship, TERYT, organisation, signatory, JRWA,
category). Rows are bulk-inserted (executemany, 5,000 a transaction); the build time is
that insert with the full-text index maintained as in production (FTS5 triggers on SQLite,
the generated tsvector and its GIN index on PostgreSQL), plus ANALYZE/optimize.

Then each query of QUERIES with each filter set of FILTERS, ``--runs`` times, through
``workflow.search.query.search`` as the system actor (sees everything):
- "top-20": the 20 best by bm25 / ts_rank, with their snippets and the total
  (``facets=False``: what the CLI asks);
- "page": the same plus the count of every filter value (what the API and pages ask).
Median and p95 in ms. Targets (SQLite, 200,000 entries): top-20 median <= 15 ms, p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from tests.pg import start_cluster, stop_cluster  # noqa: E402
from tests.search import make_corpus as words  # noqa: E402
from workflow.config import Settings  # noqa: E402
from workflow.db import transaction  # noqa: E402
from workflow.migrate import upgrade  # noqa: E402
from workflow.models.search import SearchEntry, SearchValue  # noqa: E402
from workflow.polish.lemmas import index_text  # noqa: E402
from workflow.polish.teryt import VOIVODESHIPS  # noqa: E402
from workflow.runtime import Runtime, build_runtime  # noqa: E402
from workflow.search.index import facet_token  # noqa: E402
from workflow.search.query import search  # noqa: E402

QUERIES = [
    "Rybnik", "Katowice", "Łódź", "Piła", "Śląsk", "samorząd", "urząd", "gmina",
    "Rybnik samorząd", "urząd Katowice", "Gliwice gmina powiat", "lodz", "Białystok",
    "szkolenia cyfryzacja", "list intencyjny Opole", "Żory starostwo",
]  # fmt: skip
FILTERS: list[dict[str, list[str]]] = [
    {},
    {"year": ["2024"]},
    {"voivodeship": ["śląskie"]},
    {"kind": ["letter_of_intent"], "year": ["2025", "2026"]},
    {"category": ["A"], "voivodeship": ["mazowieckie", "śląskie"]},
]
KINDS = ["letter_of_intent", "agreement", "annex"]
STATUSES = ["draft", "in_review", "approved", "awaiting_signatures", "signed", "archived"]
FIRST = ["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Jan", "Ewa", "Marek", "Agnieszka"]
LAST = ["Nowak", "Kowalska", "Wiśniewski", "Zielińska", "Kuczera", "Król", "Lewandowski", "Mazur"]
BATCH = 5_000


def place_paragraph(rng: random.Random, place: str) -> str:
    """A paragraph about ``place`` (in a case the template wants), an office, a filler."""
    _nom, gen, loc, inst = words.PLACES[place]
    sentences = [rng.choice(words.PLACE_SENTENCES).format(gen=gen, loc=loc, inst=inst)]
    sentences.append(rng.choice(words.OFFICE_SENTENCES).format(*_office(rng)))
    sentences.append(rng.choice(words.FILLERS + words.DISTRACTORS))
    rng.shuffle(sentences)
    return " ".join(sentences)


def general_paragraph(rng: random.Random) -> str:
    """A paragraph naming no place: offices, fillers, distractors."""
    sentences = [rng.choice(words.OFFICE_SENTENCES).format(*_office(rng))]
    sentences += rng.sample(words.FILLERS + words.DISTRACTORS, 2)
    rng.shuffle(sentences)
    return " ".join(sentences)


def _office(rng: random.Random) -> tuple[str, ...]:
    return words.OFFICES[rng.choice(list(words.OFFICES))]


Pool = list[tuple[str, str]]


def pools(rng: random.Random) -> tuple[dict[str, Pool], Pool]:
    """Paragraphs about each place (100 each) and general ones (1,000), with their terms."""
    about = {
        place: [(t, index_text(t)) for t in (place_paragraph(rng, place) for _ in range(100))]
        for place in words.PLACES
    }
    general = [(t, index_text(t)) for t in (general_paragraph(rng) for _ in range(1_000))]
    return about, general


def rows(n: int, seed: int = 2026) -> Iterator[tuple[dict[str, Any], list[tuple[str, str]]]]:
    """(entry row, its (facet, value) pairs), ``n`` of them, the same for every backend:
    each about one place (2-4 paragraphs naming it) with 2-4 general paragraphs."""
    rng = random.Random(seed)  # synthetic data, not a secret
    about, general = pools(rng)
    places = list(words.PLACES)
    codes = list(VOIVODESHIPS)
    people = [f"{f} {last}" for f in FIRST for last in LAST]
    stamp = datetime.now(UTC)
    for i in range(1, n + 1):
        place = rng.choice(places)
        chosen = rng.sample(about[place], rng.randint(2, 4)) + rng.sample(
            general, rng.randint(2, 4)
        )
        code = rng.choice(codes)
        teryt = f"{code}{rng.randint(1, 99):02d}{rng.randint(1, 99):02d}{rng.randint(1, 5)}"
        title = f"List intencyjny z {words.PLACES[place][1]} nr {i}"
        body = "\n".join([title, *(p for p, _ in chosen)])
        entry = {
            "id": i, "archive_record_id": i, "kind": rng.choice(KINDS),
            "status": rng.choice(STATUSES), "title": title, "file_name": f"LI-{i:06d}.pdf",
            "year": rng.randint(2015, 2026), "jrwa_symbol": rng.choice(["0143", "031", "0640"]),
            "category": rng.choice(["A", "B", "BE", "BC"]), "body": body,
            "terms": " ".join([index_text(title), *(t for _, t in chosen)]), "updated_at": stamp,
        }  # fmt: skip
        values = [
            ("kind", entry["kind"]), ("status", entry["status"]), ("year", str(entry["year"])),
            ("jrwa", entry["jrwa_symbol"]), ("category", entry["category"]),
            ("organisation", f"Gmina {place}"), ("teryt", teryt),
            ("voivodeship", VOIVODESHIPS[code]), ("signatory", rng.choice(people)),
        ]  # fmt: skip
        entry["facet_terms"] = " ".join(sorted({facet_token(f, v) for f, v in values}))
        yield entry, values


def build(rt: Runtime, n: int) -> float:
    """Bulk-insert ``n`` entries; seconds, index maintenance and ANALYZE included."""
    batch: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    data = list(rows(n))  # generated before the clock starts: the index is timed, not Python
    t0 = time.perf_counter()
    for entry, pairs in data:
        batch.append(entry)
        values.extend({"entry_id": entry["id"], "facet": f, "value": v} for f, v in pairs)
        if len(batch) >= BATCH:
            _flush(rt, batch, values)
    if batch:
        _flush(rt, batch, values)
    with transaction(rt.sessions) as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("ANALYZE search_entries"))
            s.execute(text("ANALYZE search_values"))
        else:
            s.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
            s.execute(text("ANALYZE"))
    return time.perf_counter() - t0


def _flush(rt: Runtime, batch: list[dict[str, Any]], values: list[dict[str, Any]]) -> None:
    with transaction(rt.sessions) as s:
        s.execute(insert(SearchEntry), batch)
        s.execute(insert(SearchValue), values)
    batch.clear()
    values.clear()


def timings(rt: Runtime, runs: int, *, facets: bool) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this process) milliseconds of each query; on SQLite the database
    runs in this process, so its CPU time leaves out the waits of a machine others load."""
    wall: list[float] = []
    cpu: list[float] = []
    with transaction(rt.read_sessions) as s:
        search(s, "Rybnik", actor=None)  # warm: caches, the analyser
    for _ in range(runs):
        for query in QUERIES:
            for filters in FILTERS:
                with transaction(rt.read_sessions) as s:
                    t0, c0 = time.perf_counter(), time.process_time()
                    search(s, query, filters, limit=20, actor=None, facets=facets)
                    wall.append(1000 * (time.perf_counter() - t0))
                    cpu.append(1000 * (time.process_time() - c0))
    return wall, cpu


def summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered), p95, ordered[-1]


def measure(name: str, settings: Settings, n: int, runs: int) -> dict[str, Any]:
    upgrade(settings)
    rt = build_runtime(settings)
    try:
        built = build(rt, n)
        top_wall, top_cpu = timings(rt, runs, facets=False)
        page_wall, _ = timings(rt, runs, facets=True)
    finally:
        rt.close()
    return {
        "backend": name, "build_s": built, "top": summary(top_wall), "page": summary(page_wall),
        "top_cpu": summary(top_cpu), "load": os.getloadavg()[0],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="estrategia-bench-search-"))
    try:  # the SQLite file of 200,000 entries is over a gigabyte: not left behind
        results = [measure("sqlite", _settings(tmp / "sqlite", ""), args.entries, args.runs)]
        cluster = start_cluster()
        try:
            cluster.psql("CREATE DATABASE bench_search")
            url = cluster.url("bench_search")
            pg = measure("postgresql", _settings(tmp / "pg", url), args.entries, args.runs)
            results.append(pg)
        finally:
            stop_cluster(cluster)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    count = len(QUERIES) * len(FILTERS) * args.runs
    print(f"{args.entries} entries; {count} queries per case ({len(QUERIES)} queries x "
          f"{len(FILTERS)} filter sets x {args.runs} runs)")  # fmt: skip
    print(f"{'backend':<11}{'build s':>9}{'top-20 median':>15}{'p95':>8}{'max':>8}"
          f"{'page median':>13}{'p95':>8}{'max':>8}   (ms)")  # fmt: skip
    for r in results:
        print(f"{r['backend']:<11}{r['build_s']:>9.1f}{_ms(r['top'])}{_ms(r['page'], 13)}")
    sqlite = results[0]["top"]
    cpu = results[0]["top_cpu"]
    print(f"\nSQLite top-20: median {sqlite[0]:.1f} ms (target <= 15), "
          f"p95 {sqlite[1]:.1f} ms (target <= 50); CPU time of the process (SQLite runs in "
          f"it): median {cpu[0]:.1f} ms, p95 {cpu[1]:.1f} ms")  # fmt: skip
    print(
        "load average (1 min) after each backend: "
        + ", ".join(f"{r['backend']} {r['load']:.1f}" for r in results)
    )


def _ms(values: tuple[float, float, float], width: int = 15) -> str:
    median, p95, worst = values
    return f"{median:>{width}.1f}{p95:>8.1f}{worst:>8.1f}"


def _settings(var: Path, url: str) -> Settings:
    return Settings(var_dir=var, storage={"database_url": url}, secret_key="bench-" * 4)


if __name__ == "__main__":
    main()
