"""``estrategia verify`` as a new user meets it: run from an empty directory with no
configuration, it prints a report, writes nothing, and keeps stderr for one-line errors.

Run as a real subprocess (the installed console script), so that what reaches the
terminal is what is asserted: pyHanko's log records, Python's last-resort log handler and
warnings all write to the process's stderr, which an in-process ``main()`` would not show.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from signatures import (
    FieldSpec,
    PadesLevel,
    TimestampUnavailable,
    UnreadablePdf,
    prepare_for_signing,
    sign_pdf,
)
from tests.signatures import hostile
from tests.signatures.sample import make_sample_pdf
from workflow.cli.output import Exit, fail
from workflow.errors import ErrorCode, InvalidInput, RenderingFailed
from workflow.signing.trust import SigningEnvironment
from workflow.storage.blobs import BlobCorrupted

ESTRATEGIA = Path(sys.executable).with_name("estrategia")


@pytest.fixture(scope="module")
def signed_pdf(signing_env: SigningEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A well-formed letter signed at B-LTA by a demo PKI that the user does not trust."""
    pki = signing_env.demo_pki
    assert pki is not None
    key_id = pki.signatories[0].key_id
    key = pki.key(key_id)
    try:
        pdf = sign_pdf(
            prepare_for_signing(make_sample_pdf(), [FieldSpec("podpis")]),
            key=key,
            field_name="podpis",
            profile=pki.signatory(key_id).profile(),
            trust=signing_env.trust,
            level=PadesLevel.B_LTA,
            services=signing_env.services,
        )
    finally:
        key.close()
    path = tmp_path_factory.mktemp("received") / "list-podpisany.pdf"
    path.write_bytes(pdf)
    return path


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``estrategia ARGS`` in ``cwd``, with none of the ESTRATEGIA_ settings of the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESTRATEGIA_")}
    env["HOME"] = str(cwd.parent / "home")
    return subprocess.run(
        [str(ESTRATEGIA), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_new_user_verifies_an_untrusted_file(signed_pdf: Path, tmp_path: Path) -> None:
    here = tmp_path / "empty"
    here.mkdir()
    done = _run(here, "verify", str(signed_pdf))
    assert done.returncode == Exit.CHECK_FAILED
    assert done.stderr == ""
    assert "Piotr Kuczera" in done.stdout or "Patrycja Sass-Staniszewska" in done.stdout
    assert "zaufany: NIE; nienaruszony: tak" in done.stdout
    assert "brak zaufanych certyfikatów głównych" in done.stdout
    assert "WYNIK: dokument NIEWAŻNY" in done.stdout
    assert list(here.iterdir()) == []  # no var/pki, nothing at all
    assert not (tmp_path / "home").exists()


def test_verbose_shows_the_libraries_log(signed_pdf: Path, tmp_path: Path) -> None:
    done = _run(tmp_path, "verify", "-v", str(signed_pdf))
    assert done.returncode == Exit.CHECK_FAILED
    assert "pyhanko" in done.stderr


def test_with_the_right_root_it_is_valid(
    signed_pdf: Path, signing_env: SigningEnvironment, tmp_path: Path
) -> None:
    assert signing_env.demo_pki is not None
    root = signing_env.demo_pki.cert_path("root")
    done = _run(tmp_path, "verify", "--trust", str(root), str(signed_pdf))
    assert (done.returncode, done.stderr) == (Exit.OK, "")
    assert "WYNIK: dokument ważny" in done.stdout


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("root-is-42.pdf", hostile.minimal_pdf({1: b"42"}, pages=False)),
        (
            "deep.pdf",
            hostile.minimal_pdf(
                {1: b"<< /Type /Catalog /X " + hostile.nested(600) + b" >>"}, pages=False
            ),
        ),
        ("not-a-pdf.pdf", b"GIF89a"),
    ],
)
def test_an_unreadable_file_is_one_line_and_exit_2(
    name: str, content: bytes, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    done = _run(tmp_path, "verify", str(path))
    assert done.returncode == Exit.REFUSED
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {path}: ")


def test_a_missing_file_or_trust_root_is_one_line_and_exit_2(
    signed_pdf: Path, tmp_path: Path
) -> None:
    for args in (["verify", str(tmp_path / "nie-ma.pdf")],
                 ["verify", "--trust", str(tmp_path / "nie-ma.pem"), str(signed_pdf)]):  # fmt: skip
        done = _run(tmp_path, *args)
        assert done.returncode == Exit.REFUSED
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert "nie-ma" in done.stderr


def test_help_documents_trust_and_exit_codes(tmp_path: Path) -> None:
    done = _run(tmp_path, "verify", "--help")
    assert done.returncode == 0
    assert "whom it trusts" in done.stdout
    assert "exit codes" in done.stdout
    assert "70 a bug" in _run(tmp_path, "--help").stdout


@pytest.mark.parametrize(
    ("error", "code", "english", "polish"),
    [
        # what `timestamps renew` meets when the TSA is down
        (
            TimestampUnavailable("TSA at http://tsa.example/ did not answer:\nrefused"),
            Exit.UNAVAILABLE,
            "error: The timestamp service is unavailable: TSA at http://tsa.example/ did not "
            "answer: refused. Nothing was changed; try again later.",
            "error: Usługa znacznika czasu jest niedostępna. Nic nie zostało zmienione; spróbuj "
            "ponownie później.",
        ),
        (
            RenderingFailed(ErrorCode.CONVERSION_TIMEOUT, seconds=60),
            Exit.UNAVAILABLE,
            "longer than 60 s",
            "trwało dłużej niż 60 s",
        ),
        (BlobCorrupted("stored file ab12 does not match its hash"), Exit.DAMAGED, "ab12", "ab12"),
        (
            UnreadablePdf("cannot read the PDF: startxref loop"),
            Exit.REFUSED,
            "startxref loop",
            "error: Plik nie jest czytelnym dokumentem PDF.",
        ),
        (
            InvalidInput("data", ErrorCode.DATA_NOT_OBJECT),
            Exit.REFUSED,
            "error: The data file must hold a JSON object.",
            "error: Plik danych musi zawierać obiekt JSON.",
        ),
        (
            FileNotFoundError(2, "No such file or directory", "out/x"),
            Exit.REFUSED,
            "out/x",
            "out/x",
        ),
    ],
)
def test_an_expected_error_is_one_line_with_its_exit_code(
    error: Exception, code: Exit, english: str, polish: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for lang, line in (("en", english), ("pl", polish)):
        assert fail(error, lang) == code
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.endswith("\n")
        assert err.count("\n") == 1
        assert line in err, err


@pytest.mark.parametrize(
    ("environ", "argv", "words"),
    [
        ({"LANG": "pl_PL.UTF-8"}, [], "Plik danych musi"),
        ({"LANG": "en_GB.UTF-8"}, [], "The data file must"),
        ({"LC_ALL": "C"}, [], "Plik danych musi"),  # Polish unless en_*
        ({"LANG": "en_GB.UTF-8"}, ["--lang", "pl"], "Plik danych musi"),
        ({"LANG": "pl_PL.UTF-8"}, ["--lang", "en"], "The data file must"),
    ],
)
def test_errors_speak_the_language_of_the_environment_or_of_lang(
    environ: dict[str, str], argv: list[str], words: str, tmp_path: Path
) -> None:
    data = tmp_path / "dane.json"
    data.write_text("[1, 2]", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    env.update(environ, ESTRATEGIA_VAR_DIR=str(tmp_path / "var"))
    template = Path(__file__).resolve().parents[2] / "templates" / "list_intencyjny.docx"
    done = subprocess.run(
        [str(ESTRATEGIA), *argv, "render", "--template", str(template), "--data", str(data),
         "--out", str(tmp_path / "x.docx")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == Exit.REFUSED, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert words in done.stderr


def test_a_bug_keeps_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(KeyError) as raised:
        dict[str, int]()["missing"]
    assert fail(raised.value) == Exit.BUG
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "a bug in estrategia" in err
