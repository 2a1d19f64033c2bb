"""Fixtures for the rendering layer: the real templates, real LibreOffice, real poppler.

One warm converter pool serves the whole session (starting LibreOffice costs about a
second); tests that kill or time out workers get their own small pool instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workflow.rendering.converter import WarmConverterPool
from workflow.rendering.engine import build_context, render_docx
from workflow.rendering.fields import FieldSchema

from .helpers import TEMPLATES, load_schema
from .sample_data import (
    LETTER_VALUES,
    PARTIES,
    SIGNATORIES,
    STRATEGY_VALUES,
    letter_document,
    strategy_document,
)


@pytest.fixture(scope="session")
def letter_template() -> bytes:
    return (TEMPLATES / "list_intencyjny.docx").read_bytes()


@pytest.fixture(scope="session")
def letter_schema() -> FieldSchema:
    return load_schema("list_intencyjny")


@pytest.fixture(scope="session")
def strategy_template() -> bytes:
    return (TEMPLATES / "e_strategia.docx").read_bytes()


@pytest.fixture(scope="session")
def strategy_schema() -> FieldSchema:
    return load_schema("e_strategia")


@pytest.fixture(scope="session")
def letter_docx(letter_template: bytes, letter_schema: FieldSchema) -> bytes:
    context = build_context(
        letter_schema.validate(LETTER_VALUES),
        document=letter_document(),
        parties=PARTIES,
        signatories=SIGNATORIES,
    )
    return render_docx(letter_template, context, name="list_intencyjny.docx")


@pytest.fixture(scope="session")
def strategy_docx(strategy_template: bytes, strategy_schema: FieldSchema) -> bytes:
    context = build_context(
        strategy_schema.validate(STRATEGY_VALUES),
        document=strategy_document(),
        parties=PARTIES,
        signatories=SIGNATORIES,
    )
    return render_docx(strategy_template, context, name="e_strategia.docx")


@pytest.fixture(scope="session")
def warm_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarmConverterPool]:
    """Two warm converters for the whole session (one per core on the CI machine)."""
    pool = WarmConverterPool(2, workdir=tmp_path_factory.mktemp("warm-pool"), timeout=60)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def letter_pdf(warm_pool: WarmConverterPool, letter_docx: bytes) -> bytes:
    return warm_pool.convert(letter_docx)


@pytest.fixture(scope="session")
def strategy_pdf(warm_pool: WarmConverterPool, strategy_docx: bytes) -> bytes:
    return warm_pool.convert(strategy_docx)
