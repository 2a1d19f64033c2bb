"""``estrategia archive import``: one file, or a folder with a mix of good and bad files,
through ``main()`` against the test's database: what was imported, what was already there,
what failed and why, and the exit status README documents (0 all in, 1 some failed, 2 the
one file given was refused)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.archive.import_pdfs import scan_pdf, signed_pdf, text_pdf
from workflow.cli.main import main
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.jobs.queue import queue_of
from workflow.models.archive import ArchiveRecord
from workflow.runtime import Runtime

META = {
    "kind": "letter_of_intent",
    "title": "List intencyjny z Miastem Rybnik (2019)",
    "jrwa_symbol": "0170",
    "category": "B",
    "retention_years": 10,
    "case_closed_on": "2019-05-20",
    "parties": [{"name": "Miasto Rybnik", "teryt": "2473011"}],
}


@pytest.fixture
def cli(rt: Runtime, demo: DemoIds, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The command line on the test's database, trusting the test PKI's root."""
    pki = rt.signing.demo_pki
    assert pki is not None
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(rt.settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", rt.settings.storage.database_url)
    monkeypatch.setenv("ESTRATEGIA_DEMO", "false")
    monkeypatch.setenv("ESTRATEGIA_TRUST_ROOTS", json.dumps([str(pki.cert_path("root"))]))
    monkeypatch.setenv("ESTRATEGIA_JOBS_EMBEDDED_WORKER", "false")
    return rt


def _records(rt: Runtime) -> list[ArchiveRecord]:
    with transaction(rt.read_sessions) as session:
        rows = list(session.scalars(select(ArchiveRecord).order_by(ArchiveRecord.id)))
        session.expunge_all()
        return rows


def _lines(text: str) -> dict[str, str]:
    """Report lines by file name."""
    found = {}
    for line in text.splitlines():
        head, _, rest = line.partition(": ")
        if rest and head.split():
            found[head.split()[-1]] = line
    return found


def test_a_folder_with_a_mix_reports_each_file_and_exits_1(
    cli: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "umowy"
    folder.mkdir()
    plain = text_pdf()
    (folder / "a-podpisany.pdf").write_bytes(signed_pdf(cli))
    (folder / "a-podpisany.json").write_text(json.dumps(META), "utf-8")
    (folder / "b-zwykly.PDF").write_bytes(plain)
    (folder / "c-kopia.pdf").write_bytes(plain)  # the same bytes again
    (folder / "d-skan.pdf").write_bytes(scan_pdf())
    (folder / "e-nie-pdf.pdf").write_bytes(b"PK\x03\x04 a zip file called .pdf")
    (folder / "f-zle-meta.pdf").write_bytes(text_pdf("Porozumienie nr 7 w sprawie e-strategii"))
    (folder / "f-zle-meta.json").write_text(json.dumps({**META, "category": "X"}), "utf-8")
    (folder / "notatka.txt").write_text("not a PDF name: ignored", "utf-8")

    status = main(["--lang", "en", "archive", "import", str(folder)])

    out = capsys.readouterr().out
    lines = _lines(out)
    assert status == 1
    assert "imported as record" in lines["a-podpisany.pdf"]
    assert "signatures: valid" in lines["a-podpisany.pdf"]
    assert "signatures: unsigned" in lines["b-zwykly.PDF"]
    assert "already archived" in lines["c-kopia.pdf"]
    assert "OCR queued" in lines["d-skan.pdf"]
    assert lines["e-nie-pdf.pdf"].startswith("FAILED")
    assert "not a PDF" in lines["e-nie-pdf.pdf"]
    assert lines["f-zle-meta.pdf"].startswith("FAILED")
    assert "X" in lines["f-zle-meta.pdf"]  # the unknown category named
    assert "notatka.txt" not in out
    assert out.strip().splitlines()[-1] == "3 imported, 1 already archived, 2 failed"
    records = _records(cli)
    assert [r.file_name for r in records] == ["a-podpisany.pdf", "b-zwykly.PDF", "d-skan.pdf"]
    assert records[0].title == META["title"]  # its metadata from a-podpisany.json
    assert records[2].text_status == "ocr_pending"
    jobs = [j for j in queue_of(cli).list_jobs() if j.name == "archive.ocr"]
    assert len(jobs) == 1


def test_one_file_then_again_then_a_refusal(
    cli: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "porozumienie.pdf"
    pdf.write_bytes(text_pdf())
    meta = tmp_path / "inne.json"
    meta.write_text(json.dumps(META), "utf-8")

    assert main(["--lang", "en", "archive", "import", str(pdf), "--meta", str(meta)]) == 0
    assert "imported as record" in capsys.readouterr().out
    assert main(["--lang", "en", "archive", "import", str(pdf)]) == 0
    assert "already archived" in capsys.readouterr().out
    (record,) = _records(cli)
    assert record.title == META["title"]

    fake = tmp_path / "fake.pdf"
    fake.write_text("hello", "utf-8")
    assert main(["--lang", "en", "archive", "import", str(fake)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a PDF" in err
    assert main(["--lang", "en", "archive", "import", str(tmp_path / "missing.pdf")]) == 2


def test_bad_meta_file_and_an_author_are_refused(
    cli: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "porozumienie.pdf"
    pdf.write_bytes(text_pdf())
    meta = tmp_path / "porozumienie.json"  # beside it: used without --meta
    meta.write_text(json.dumps({**META, "retention_years": None}), "utf-8")

    assert main(["--lang", "en", "archive", "import", str(pdf)]) == 2
    assert "retention" in capsys.readouterr().err.lower()
    meta.write_text("{not json", "utf-8")
    assert main(["--lang", "en", "archive", "import", str(pdf)]) == 2
    assert "porozumienie.json" in capsys.readouterr().err
    meta.unlink()
    assert main(["--lang", "en", "archive", "import", str(tmp_path), "--meta", str(pdf)]) == 2
    assert "--meta is for one file" in capsys.readouterr().err
    args = ["--lang", "en", "archive", "import", str(pdf), "--as", "autor@e-izba.demo"]
    assert main(args) == 2
    assert "archivist" in capsys.readouterr().err
    with transaction(cli.read_sessions) as session:
        assert session.scalar(select(func.count()).select_from(ArchiveRecord)) == 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_on_a_terminal_only(cli: Runtime, tmp_path: Path) -> None:
    from workflow.cli.archive_import import import_folder, pdfs_in

    (tmp_path / "a.pdf").write_bytes(text_pdf("Porozumienie pierwsze z Rybnikiem"))
    (tmp_path / "b.pdf").write_bytes(text_pdf("Porozumienie drugie z Gliwicami"))
    terminal, pipe = _Terminal(), io.StringIO()

    results = import_folder(cli, pdfs_in(tmp_path), actor=None, lang="en", out=terminal)
    import_folder(cli, pdfs_in(tmp_path), actor=None, lang="en", out=pipe)

    assert [r.error for r in results] == [None, None]
    assert "\r[" + "#" * 15 + "." * 15 + "]     1/2  a.pdf" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")
    assert pipe.getvalue() == ""  # a log file or a pipe gets the report, not the bar
