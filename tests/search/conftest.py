"""A migrated database without the demo's converter and signing environment: the index
needs neither (``settings`` gives SQLite and PostgreSQL, as everywhere)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.search.corpus import load_corpus
from workflow.config import Settings
from workflow.db import transaction
from workflow.migrate import upgrade
from workflow.runtime import Runtime, build_runtime


@pytest.fixture
def bare_rt(settings: Settings) -> Iterator[Runtime]:
    upgrade(settings)
    runtime = build_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def corpus_rt(bare_rt: Runtime) -> Runtime:
    """``bare_rt`` holding the Polish corpus."""
    with transaction(bare_rt.sessions) as session:
        load_corpus(session)
    return bare_rt
