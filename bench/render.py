"""Benchmark: the letter of intent -> PDF/A-2b, warm LibreOffice against cold soffice.

    .venv/bin/python bench/render.py [--warm-runs 50] [--cold-runs 10]

Renders templates/list_intencyjny.docx with the Rybnik sample data (tests/rendering),
then converts the same .docx
- with a warm ``WarmConverterPool`` (one worker, after a warm-up),
- with ``ColdConverter`` (``soffice --convert-to``, a fresh profile each time: the fallback),
- with a bare ``soffice --convert-to`` reusing one profile (the fairest cold baseline),
and prints median / p95 per conversion. Targets: warm median <= 150 ms, >= 6x faster than
cold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from workflow.rendering.converter import (
    PDF_A_2B_CONVERT_TO,
    ColdConverter,
    WarmConverterPool,
    check_pdf,
)
from workflow.rendering.engine import build_context, render_docx
from workflow.rendering.fields import FieldSchema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.rendering.sample_data when run as a script

from tests.rendering.sample_data import (  # noqa: E402 - needs the sys.path line above
    LETTER_VALUES,
    PARTIES,
    SIGNATORIES,
    letter_document,
)


def timed(action: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    p95 = (
        statistics.quantiles(samples, n=20, method="inclusive")[18]
        if len(samples) > 1
        else samples[0]
    )
    return statistics.median(samples), p95


def render_letter() -> bytes:
    schema_path = ROOT / "templates" / "list_intencyjny.schema.json"
    schema = FieldSchema.parse(json.loads(schema_path.read_text("utf-8")), source=schema_path.name)
    context = build_context(
        schema.validate(LETTER_VALUES),
        document=letter_document(),
        parties=PARTIES,
        signatories=SIGNATORIES,
    )
    template = (ROOT / "templates" / "list_intencyjny.docx").read_bytes()
    return render_docx(template, context, name="list_intencyjny.docx")


def bare_soffice(docx: bytes, work: Path) -> Callable[[], None]:
    source = work / "letter.docx"
    source.write_bytes(docx)
    profile = (work / "profile").as_uri()

    def convert() -> None:
        subprocess.run(
            ["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile}",
             "--convert-to", PDF_A_2B_CONVERT_TO, "--outdir", str(work / "out"), str(source)],
            check=True, capture_output=True,
        )  # fmt: skip
        check_pdf((work / "out" / "letter.pdf").read_bytes())

    return convert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=50)
    parser.add_argument("--cold-runs", type=int, default=10)
    args = parser.parse_args()

    template_ms = timed(render_letter, 20)
    docx = render_letter()
    with tempfile.TemporaryDirectory(prefix="estrategia-bench-") as tmp:
        work = Path(tmp)
        with WarmConverterPool(1, workdir=work / "warm") as pool:
            start = time.perf_counter()
            pool.convert(docx)
            first_ms = (time.perf_counter() - start) * 1000
            timed(lambda: pool.convert(docx), 3)  # warm-up
            warm_ms = timed(lambda: pool.convert(docx), args.warm_runs)
            end_to_end_ms = timed(lambda: pool.convert(render_letter()), 20)
        cold = ColdConverter(workdir=work / "cold")
        cold_ms = timed(lambda: cold.convert(docx), args.cold_runs)
        bare = bare_soffice(docx, work)
        bare()  # creates the reused profile
        bare_ms = timed(bare, args.cold_runs)

    rows = [
        ("docxtpl render (sandboxed)", template_ms),
        ("warm pool, convert", warm_ms),
        ("warm pool, render + convert", end_to_end_ms),
        ("ColdConverter (fresh profile)", cold_ms),
        ("soffice --convert-to (reused profile)", bare_ms),
    ]
    print(
        f"\nletter of intent -> PDF/A-2b; warm first call (starts LibreOffice): {first_ms:.0f} ms\n"
    )
    print(f"{'path':40} {'runs':>5} {'median ms':>10} {'p95 ms':>8}")
    for label, samples in rows:
        median, p95 = summary(samples)
        print(f"{label:40} {len(samples):>5} {median:>10.1f} {p95:>8.1f}")
    warm_median = statistics.median(warm_ms)
    print(
        f"\ncold / warm (median): {statistics.median(cold_ms) / warm_median:.1f}x against "
        f"ColdConverter, {statistics.median(bare_ms) / warm_median:.1f}x against bare soffice"
    )
    print(f"target warm median <= 150 ms: {'met' if warm_median <= 150 else 'NOT met'}")


if __name__ == "__main__":
    main()
