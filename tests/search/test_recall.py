"""Recall and precision of the Polish search on the corpus we wrote (``corpus.json``):
places in four cases ("w Rybniku", "na Śląsku", "Łodzi", "Piły"), offices in the singular
and plural ("samorządów"), distractors ("Rybny", "piła" the saw, "pił" of "pić", "łódź" the
boat). Both at least 0.95, micro-averaged over the query set, on SQLite and PostgreSQL,
and the two backends give the same answers and the same snippets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.pg import Cluster
from tests.search.corpus import PARAGRAPHS, QUERIES, found, load_corpus, score
from workflow.config import Settings
from workflow.db import transaction
from workflow.migrate import upgrade
from workflow.runtime import Runtime, build_runtime
from workflow.search.query import search


def answers_of(rt: Runtime) -> dict[str, set[int]]:
    with transaction(rt.read_sessions) as session:
        return {str(q["query"]): found(session, str(q["query"])) for q in QUERIES}


def test_the_corpus_is_big_enough_and_has_its_traps() -> None:
    texts = " ".join(str(p["text"]) for p in PARAGRAPHS)
    assert len(PARAGRAPHS) >= 200
    for form in ("w Rybniku", "na Śląsku", "samorządów", "Łodzi", "Piły", "Rybny", "piła", "pił"):
        assert form in texts, form


def test_recall_and_precision_are_at_least_095(corpus_rt: Runtime) -> None:
    result = score(answers_of(corpus_rt))
    assert result.recall >= 0.95, result
    assert result.precision >= 0.95, result


def test_the_city_of_pila_is_not_the_saw_nor_drinking(corpus_rt: Runtime) -> None:
    answers = answers_of(corpus_rt)
    for i in answers["Piła"]:
        text = str(PARAGRAPHS[i]["text"])
        assert "Piła" in PARAGRAPHS[i]["labels"], text  # type: ignore[operator]
    for i in answers["Rybnik"]:
        assert "Rybnik" in PARAGRAPHS[i]["labels"], PARAGRAPHS[i]["text"]  # type: ignore[operator]


def test_sqlite_and_postgresql_give_the_same_answers_and_snippets(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL not among ESTRATEGIA_TEST_BACKENDS")
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    cluster.psql("CREATE DATABASE search_both")
    urls = {"sqlite": "", "postgresql": cluster.url("search_both")}
    answers: dict[str, dict[str, set[int]]] = {}
    snippets: dict[str, dict[tuple[str, int | None], str]] = {}
    for name, url in urls.items():
        settings = Settings(
            var_dir=tmp_path / name, storage={"database_url": url}, secret_key="x" * 24
        )
        upgrade(settings)
        rt = build_runtime(settings)
        try:
            with transaction(rt.sessions) as session:
                load_corpus(session)
            answers[name] = answers_of(rt)
            with transaction(rt.read_sessions) as session:
                snippets[name] = {
                    (str(q["query"]), r.archive_record_id): r.snippet
                    for q in QUERIES
                    for r in search(session, str(q["query"]), limit=100, actor=None).results
                }
        finally:
            rt.close()
    assert answers["sqlite"] == answers["postgresql"]
    assert snippets["sqlite"] == snippets["postgresql"]
