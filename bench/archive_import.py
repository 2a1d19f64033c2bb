"""Benchmark: ``estrategia archive import DIR/`` of a folder of text PDFs, documents per second.

    .venv/bin/python bench/archive_import.py [--files 500] [--mode both|inprocess|cli]

Makes a folder of ``--files`` two-page Polish letters (pyHanko's writer, DejaVu Sans
embedded, each with its own municipality and number, so no two share a sha256; making them
is not timed), then, each on a fresh SQLite database under a temporary ``var/`` with the
demo data loaded:

- ``inprocess``: ``import_folder`` (what the command runs) in this process, timed from the
  first file to the last: per file, the checks of its bytes, signature validation
  (pyHanko; none found), ``pdftotext``, the write-once store (blob fsynced, row, audit
  record, frozen report) and the search index entry, one transaction per file;
- ``cli``: the command itself, ``estrategia archive import DIR``, timed as a whole (process
  start and the imports of the application included).

Target (issue 10): at least 10 text PDFs per second on 2 cores.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.signatures.sample import PAGES, make_sample_pdf  # noqa: E402
from workflow.config import Settings  # noqa: E402

TOWNS = ("Rybnik", "Gliwice", "Gaszowice", "Jastrzębie-Zdrój", "Żory", "Racibórz", "Wodzisław")


def make_folder(folder: Path, n: int) -> float:
    """``n`` distinct text PDFs in ``folder``; seconds it took."""
    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        town = TOWNS[i % len(TOWNS)]
        first = PAGES[0].replace("Miasta Rybnika", f"Gminy {town}") + f"\nNr {i + 1}/2019"
        (folder / f"porozumienie-{i + 1:04d}.pdf").write_bytes(make_sample_pdf((first, PAGES[1])))
    return time.perf_counter() - t0


def settings_for(var: Path) -> Settings:
    return Settings(var_dir=var, jobs={"embedded_worker": False})


def prepare(var: Path) -> None:
    """A migrated database with the demo data (the e-Izba head office owns the imports)."""
    from workflow.demo.data import load_demo_data
    from workflow.migrate import upgrade
    from workflow.runtime import build_runtime

    settings = settings_for(var)
    upgrade(settings)
    rt = build_runtime(settings)
    try:
        load_demo_data(rt)
    finally:
        rt.close()


def run_inprocess(folder: Path, var: Path) -> tuple[float, int, int]:
    """(seconds, imported, failed) of ``import_folder`` in this process."""
    from workflow.cli.archive_import import _runtime, import_folder, import_trust, pdfs_in

    prepare(var)
    settings = settings_for(var)
    rt = _runtime(settings)
    try:
        trust = import_trust(settings)
        paths = pdfs_in(folder)
        t0 = time.perf_counter()
        results = import_folder(rt, paths, actor=None, lang="en", out=io.StringIO(), trust=trust)
        seconds = time.perf_counter() - t0
    finally:
        rt.close()
    failed = [r for r in results if r.error is not None]
    for r in failed[:5]:
        print(f"  failed: {r.path.name}: {r.error}")
    return seconds, len(results) - len(failed), len(failed)


def run_cli(folder: Path, var: Path) -> tuple[float, int]:
    """(seconds, exit status) of ``estrategia archive import DIR`` as a process."""
    prepare(var)
    env = {**os.environ, "ESTRATEGIA_VAR_DIR": str(var), "ESTRATEGIA_JOBS_EMBEDDED_WORKER": "0"}
    env.pop("ESTRATEGIA_DATABASE_URL", None)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workflow.cli.main", "archive", "import", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    print("  " + (done.stdout.strip().splitlines() or ["(no output)"])[-1])
    if done.returncode != 0:
        print(done.stderr[-2000:])
    return seconds, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--mode", choices=("both", "inprocess", "cli"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-archive-import-") as tmp:
        folder = Path(tmp) / "pdfs"
        made = make_folder(folder, args.files)
        size = sum(p.stat().st_size for p in folder.iterdir()) / args.files
        print(
            f"{args.files} text PDFs made in {made:.1f} s (not timed), {size / 1024:.1f} KiB each"
        )
        if args.mode in ("both", "inprocess"):
            seconds, ok, failed = run_inprocess(folder, Path(tmp) / "var-inprocess")
            rate = ok / seconds if seconds else 0.0
            print(
                f"in-process import_folder: {ok} imported, {failed} failed in {seconds:.2f} s: "
                f"{rate:.1f} documents/s ({1000 * seconds / max(ok, 1):.1f} ms each)"
            )
        if args.mode in ("both", "cli"):
            seconds, status = run_cli(folder, Path(tmp) / "var-cli")
            print(
                f"estrategia archive import DIR: exit {status} in {seconds:.2f} s: "
                f"{args.files / seconds:.1f} documents/s (process start included)"
            )


if __name__ == "__main__":
    main()
