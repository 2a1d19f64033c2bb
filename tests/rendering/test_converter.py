"""Supervision of the warm converter: crashes, timeouts, parallel use, shutdown."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from workflow.errors import ErrorCode, RenderingFailed
from workflow.rendering.converter import (
    ColdConverter,
    ConverterUnavailable,
    FallbackConverter,
    WarmConverterPool,
    check_pdf,
)

from .helpers import (
    kill_offices,
    make_docx,
    needs_office,
    pdf_text,
    processes_in_group,
    wait_until_gone,
)

pytestmark = [pytest.mark.slow, needs_office]


@pytest.fixture(scope="module")
def small_docx() -> bytes:
    return make_docx("Zażółć gęślą jaźń — Prezydent Miasta Rybnika")


@pytest.fixture(scope="module")
def lone_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarmConverterPool]:
    """A pool of its own for tests that kill or time out its worker."""
    pool = WarmConverterPool(1, workdir=tmp_path_factory.mktemp("lone-pool"), timeout=60)
    try:
        yield pool
    finally:
        pool.close()


def test_nothing_starts_before_the_first_conversion(tmp_path: Path) -> None:
    pool = WarmConverterPool(1, workdir=tmp_path)
    assert pool.worker_pids() == []
    pool.close()
    with pytest.raises(RenderingFailed) as refused:
        pool.convert(b"")
    assert refused.value.code == ErrorCode.CONVERTER_CLOSED


def test_a_killed_office_is_restarted_on_the_next_request(
    lone_pool: WarmConverterPool, small_docx: bytes, tmp_path: Path
) -> None:
    lone_pool.convert(small_docx)
    before = lone_pool.worker_pids()
    assert kill_offices(lone_pool)
    pdf = lone_pool.convert(small_docx)
    assert "Zażółć gęślą jaźń" in pdf_text(pdf, tmp_path)
    assert lone_pool.worker_pids() != before


def test_a_dead_worker_script_is_restarted(lone_pool: WarmConverterPool, small_docx: bytes) -> None:
    lone_pool.convert(small_docx)
    [pgid] = lone_pool.worker_pids()
    os.killpg(pgid, signal.SIGKILL)
    time.sleep(0.2)
    check_pdf(lone_pool.convert(small_docx))


def test_a_conversion_over_the_timeout_kills_the_group_and_recovers(
    lone_pool: WarmConverterPool, small_docx: bytes
) -> None:
    lone_pool.convert(small_docx)
    [pgid] = lone_pool.worker_pids()
    with pytest.raises(RenderingFailed) as refused:
        lone_pool.convert(small_docx, timeout=0.001)
    assert (refused.value.code, refused.value.params) == (
        ErrorCode.CONVERSION_TIMEOUT,
        {"seconds": "0.001"},
    )
    assert wait_until_gone(pgid) == []  # script, oosplash and soffice.bin all gone
    check_pdf(lone_pool.convert(small_docx))


def test_a_document_libreoffice_cannot_read_fails_cleanly(
    warm_pool: WarmConverterPool, small_docx: bytes
) -> None:
    with pytest.raises(RenderingFailed):
        warm_pool.convert(b"this is not a word document")
    check_pdf(warm_pool.convert(small_docx))
    assert not any((warm_pool.workdir / "jobs").iterdir())  # temp files cleaned up


def test_workers_convert_in_parallel(warm_pool: WarmConverterPool, small_docx: bytes) -> None:
    warm_pool.start()
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(warm_pool.convert(small_docx))
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 12
    assert len(warm_pool.worker_pids()) == 2


def test_close_leaves_no_process_behind(tmp_path: Path, small_docx: bytes) -> None:
    pool = WarmConverterPool(1, workdir=tmp_path)
    pool.convert(small_docx)
    [pgid] = pool.worker_pids()
    assert {name for _, name in processes_in_group(pgid)} >= {"python3", "soffice.bin"}
    pool.close()
    assert wait_until_gone(pgid) == []


def test_a_converter_that_cannot_start_is_unavailable(tmp_path: Path, small_docx: bytes) -> None:
    pool = WarmConverterPool(1, workdir=tmp_path, uno_python="/nonexistent/python3")
    with pytest.raises(ConverterUnavailable):
        pool.convert(small_docx)
    pool.close()


def test_cold_converter_makes_pdf_a(tmp_path: Path, small_docx: bytes) -> None:
    cold = ColdConverter(workdir=tmp_path / "cold")
    pdf = cold.convert(small_docx)
    assert "Zażółć gęślą jaźń" in pdf_text(pdf, tmp_path)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert document.open_metadata().pdfa_status == "2B"
    assert list((tmp_path / "cold").iterdir()) == []


def test_fallback_uses_cold_when_warm_cannot_start(tmp_path: Path, small_docx: bytes) -> None:
    warm = WarmConverterPool(
        1, workdir=tmp_path / "warm", soffice="/nonexistent/soffice", startup_timeout=5
    )
    converter = FallbackConverter(warm, ColdConverter(workdir=tmp_path / "cold"))
    try:
        check_pdf(converter.convert(small_docx))
    finally:
        converter.close()
