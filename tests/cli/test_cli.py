"""The command line end to end: `estrategia demo`, `render`, `verify`, `audit verify`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pikepdf
import pytest

from tests.pdfsig import Pdfsig, assert_pdfsig_valid
from tests.support import free_port
from workflow.cli.main import main
from workflow.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "templates/examples/list_intencyjny.rybnik.json"


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI reads its settings from the environment, as a user's shell gives them."""
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", settings.storage.database_url)
    monkeypatch.setenv("ESTRATEGIA_DEMO_SERVICES_PORT", str(free_port()))
    return settings


def _pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_demo_leaves_a_signed_polish_letter_and_a_verified_trail(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["statuses"] == [
        "draft", "in_review", "changes_requested", "draft", "in_review", "approved",
        "awaiting_signatures", "awaiting_signatures", "signed", "archived",
    ]  # fmt: skip
    assert summary["signed_valid"] is True
    assert summary["pades_level"] == "B-LTA"
    files = {k: Path(v) for k, v in summary["files"].items()}

    text = _pdftotext(files["pdf"])
    assert "LIST INTENCYJNY" in text
    assert "Prezydent Miasta Rybnika" in text
    assert "cyberbezpieczeństwa" in text  # the edit made after the reviewer's request
    with pikepdf.open(files["pdf"]) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"

    trail = json.loads(files["audit"].read_text("utf-8"))
    assert trail["chain"]["ok"] is True
    lifecycle = [r["action"] for r in trail["records"] if r["payload"].get("outbox_id") is None]
    assert [a for a in lifecycle if a != "document.rendered"][-5:] == [
        "document.sign", "document.signing_started", "document.sign", "archive.record",
        "document.archive",
    ]  # fmt: skip
    # Its effects ran through the queue: one notice per notifying step (submit twice, changes
    # requested, approved, signatures requested, the Mayor's turn, all signed).
    assert summary["notifications"] == 7
    assert summary["mails"] >= summary["notifications"]  # "all signed" goes to several

    assert main(["audit", "verify"]) == 0
    assert summary["archive_record"] == 1
    assert main(["archive", "verify"]) == 0  # the archived letter: intact, valid offline
    capsys.readouterr()
    assert main(["search", "Rybnik", "--json"]) == 0  # the name as typed finds "Miasta Rybnika"
    (hit,) = json.loads(capsys.readouterr().out)
    assert (hit["document_id"], hit["archive_record_id"]) == (1, summary["archive_record"])
    assert "<mark>Rybnika</mark>" in hit["snippet"]
    assert main(["verify", str(files["signed_pdf"])]) == 0
    poppler = Pdfsig(tmp_path / "pdfsig", files["root_certificate"])
    assert_pdfsig_valid(poppler(files["signed_pdf"].read_bytes()), 2)
    assert main(["verify", str(files["pdf"])]) == 1  # an unsigned PDF is not a valid one
    (tmp_path / "junk.pdf").write_bytes(b"junk")
    assert main(["verify", str(tmp_path / "junk.pdf")]) == 2
    capsys.readouterr()
    assert main(["verify", "--json", str(files["signed_pdf"])]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["signer"] for s in report["signatures"]] == [
        "Patrycja Sass-Staniszewska",
        "Piotr Kuczera",
    ]


def test_render_writes_docx_and_pdf(cli_env: Settings, tmp_path: Path) -> None:
    assert main(["render", "--template", "list_intencyjny", "--data", str(EXAMPLE),
                 "--out", str(tmp_path / "list.docx")]) == 0  # fmt: skip
    assert (tmp_path / "list.docx").read_bytes()[:2] == b"PK"
    assert main(["render", "--template", "list_intencyjny", "--data", str(EXAMPLE),
                 "--out", str(tmp_path / "list.pdf")]) == 0  # fmt: skip
    assert "Piotr Kuczera – Prezydent Miasta Rybnika" in _pdftotext(tmp_path / "list.pdf")


def test_render_names_the_bad_field(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(EXAMPLE.read_text("utf-8"))
    data["valid_until"] = "31.12.2028"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), "utf-8")
    assert main(["render", "--template", "list_intencyjny", "--data", str(bad),
                 "--out", str(tmp_path / "x.pdf")]) == 2  # fmt: skip
    assert "valid_until" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_audit_verify_of_a_database_never_made_says_so_and_creates_nothing(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    existed = cli_env.var_dir.exists()
    assert main(["audit", "verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "estrategia db upgrade" in err[0]
    assert not (cli_env.var_dir / "estrategia.sqlite3").exists()
    assert cli_env.var_dir.exists() == existed
