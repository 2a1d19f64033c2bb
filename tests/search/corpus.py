"""The Polish test corpus (``corpus.json``, written by ``make_corpus.py``) and a database
holding it, one archive-record entry per paragraph (record id = paragraph id + 1)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from workflow.search.index import IndexEntry, IndexParty, index_entry
from workflow.search.query import MAX_LIMIT, search

CORPUS = json.loads(Path(__file__).with_name("corpus.json").read_text("utf-8"))
PARAGRAPHS: list[dict[str, object]] = CORPUS["paragraphs"]
QUERIES: list[dict[str, object]] = CORPUS["queries"]


@dataclass(frozen=True)
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def recall(self) -> float:
        return self.true_positives / (self.true_positives + self.false_negatives)

    @property
    def precision(self) -> float:
        return self.true_positives / (self.true_positives + self.false_positives)


def load_corpus(session: Session) -> None:
    """Every paragraph as an imported archive record; even ones in 2024, odd in 2025, every
    fifth with a party of TERYT 2473011 (śląskie) whose name is none of the queries'."""
    for p in PARAGRAPHS:
        number = int(str(p["id"]))
        parties = [IndexParty("Fundacja Przykładowa", "2473011")] if number % 5 == 0 else []
        index_entry(
            session,
            IndexEntry(
                title=f"Akapit {number}",
                text=str(p["text"]),
                kind="letter_of_intent" if number % 2 else "agreement",
                archive_record_id=number + 1,
                year=2024 if number % 2 == 0 else 2025,
                jrwa_symbol="0143",
                category="A",
                parties=parties,
            ),
        )


def found(session: Session, query: str) -> set[int]:
    """The paragraph ids a query finds (every page)."""
    ids: set[int] = set()
    offset = 0
    while True:
        page = search(session, query, limit=MAX_LIMIT, offset=offset, actor=None)
        ids.update((r.archive_record_id or 0) - 1 for r in page.results)
        offset += MAX_LIMIT
        if offset >= page.total:
            return ids


def score(answers: dict[str, set[int]]) -> Score:
    tp = fp = fn = 0
    for q in QUERIES:
        expected = {int(str(i)) for i in q["expected"]}  # type: ignore[attr-defined]
        got = answers[str(q["query"])]
        tp, fp, fn = tp + len(got & expected), fp + len(got - expected), fn + len(expected - got)
    return Score(tp, fp, fn)
