"""`estrategia search QUERY [--json] [filters]` and `estrategia search reindex`, as a user's
shell runs them, on the corpus (archive-record entries) of SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from tests.search.corpus import found
from workflow.cli.main import main
from workflow.db import transaction
from workflow.models.search import SearchEntry
from workflow.runtime import Runtime
from workflow.search.index import REINDEXERS, IndexEntry, index_entry
from workflow.storage.blobs import BlobStore


@pytest.fixture
def cli_rt(corpus_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(corpus_rt.settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", corpus_rt.settings.storage.database_url)
    return corpus_rt


def test_json_lists_ids_title_file_name_score_and_snippet(
    cli_rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "Rybnik", "--json", "--limit", "100"]) == 0
    results = json.loads(capsys.readouterr().out)
    with transaction(cli_rt.read_sessions) as s:
        expected = found(s, "Rybnik")
    assert {r["archive_record_id"] - 1 for r in results} == expected
    first = results[0]
    assert set(first) >= {"document_id", "archive_record_id", "title", "file_name", "score"}
    assert first["document_id"] is None and "<mark>" in first["snippet"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_plain_output_and_filters(cli_rt: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "gmina", "Śląsk", "--year", "2024", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    with transaction(cli_rt.read_sessions) as s:
        total = len({i for i in found(s, "gmina Śląsk") if i % 2 == 0})
    lines = out.splitlines()
    assert lines[-1] == (f"{total} found, 1 shown" if total > 1 else f"{total} found")
    assert "[" in lines[1] and "<mark>" not in out  # matches bracketed, not HTML


def test_bad_queries_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], cli_rt: Runtime
) -> None:
    assert main(["--lang", "en", "search", "x" * 10_000]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too long" in err[0] and "500" in err[0]
    assert main(["search", "--query", 'AND "(', "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_reindex_rebuilds_documents_and_runs_the_registered_reindexers(
    cli_rt: Runtime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def archive_like(session: Session, blobs: BlobStore) -> Iterator[int]:
        index_entry(session, IndexEntry(title="Z importu", text="Umowa z Opolem.",
                                        kind="agreement", archive_record_id=9999))  # fmt: skip
        yield 9999

    monkeypatch.setattr("workflow.search.index.REINDEXERS", [*REINDEXERS, archive_like])
    with transaction(cli_rt.sessions) as s:
        s.execute(delete(SearchEntry).where(SearchEntry.archive_record_id == 9999))
    assert main(["search", "reindex"]) == 0
    assert capsys.readouterr().out.strip().startswith("search index rebuilt:")
    with transaction(cli_rt.read_sessions) as s:
        assert 9998 in found(s, "Opole")
