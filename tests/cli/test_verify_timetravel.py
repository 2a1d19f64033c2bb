"""``estrategia verify --at``, tried as a new user would (issue 10, part 4): the demo PKI's
two-signature B-LTA letter, the clock moved years ahead, no network, no configuration.

- ``--trust root.pem`` alone, three years on: INVALID. Every OCSP response and CRL in the
  file has long expired and the newest archive timestamp has nothing after it to prove
  its time, so it needs its TSA certificate's current status, which nothing embedded can
  give (ETSI validation at "current time"): the timestamps cannot be validated.
- ``--tsa-trust tsa.pem`` too (the TSA's certificate as an anchor, as an EU trusted list
  gives it), twelve years on: still valid.
- after the TSA's certificate expires (20 years in the demo PKI): INVALID, and the report
  says that the archive timestamp expired (it had to be renewed before).

Run as real subprocesses: ``--at`` moves the process's clock (``signatures.longterm``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from signatures import FieldSpec, PadesLevel, prepare_for_signing, sign_pdf
from tests.signatures.sample import make_sample_pdf
from workflow.cli.output import Exit
from workflow.signing.trust import SigningEnvironment

ESTRATEGIA = Path(sys.executable).with_name("estrategia")


@pytest.fixture(scope="module")
def letter(signing_env: SigningEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The letter signed by the President of e-Izba, then the Mayor of Rybnik, at B-LTA,
    by the demo PKI (as ``estrategia demo`` signs it)."""
    pki = signing_env.demo_pki
    assert pki is not None
    fields = ("podpis-e-izba", "podpis-rybnik")
    pdf = prepare_for_signing(make_sample_pdf(), [FieldSpec(f) for f in fields])
    for signatory, field in zip(pki.signatories[:2], fields, strict=True):
        key = pki.key(signatory.key_id)
        try:
            pdf = sign_pdf(
                pdf, key=key, field_name=field, profile=pki.signatory(signatory.key_id).profile(),
                trust=signing_env.trust, level=PadesLevel.B_LTA, services=signing_env.services,
            )  # fmt: skip
        finally:
            key.close()
    path = tmp_path_factory.mktemp("received") / "list-rybnik.pdf"
    path.write_bytes(pdf)
    return path


def _verify(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESTRATEGIA_")}
    env["HOME"] = str(cwd / "home")
    return subprocess.run(
        [str(ESTRATEGIA), "verify", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _at(years: int) -> str:
    return (datetime.now(UTC) + timedelta(days=365 * years)).date().isoformat()


def test_three_years_on_the_root_alone_cannot_vouch_for_the_timestamps(
    letter: Path, signing_env: SigningEnvironment, tmp_path: Path
) -> None:
    assert signing_env.demo_pki is not None
    root = signing_env.demo_pki.cert_path("root")
    today = _verify(tmp_path, "--trust", str(root), str(letter))
    assert (today.returncode, today.stderr) == (Exit.OK, "")  # the control: valid today
    later = _verify(tmp_path, "--trust", str(root), "--at", "+3y", str(letter))
    assert later.returncode == Exit.CHECK_FAILED, later.stdout
    assert later.stderr == ""
    assert "WYNIK: dokument NIEWAŻNY" in later.stdout
    assert "Znacznik czasu dokumentu" in later.stdout and "NIEWAŻNY" in later.stdout


def test_with_the_tsa_as_an_anchor_it_stays_valid_twelve_years_on(
    letter: Path, signing_env: SigningEnvironment, tmp_path: Path
) -> None:
    pki = signing_env.demo_pki
    assert pki is not None
    trust = ["--trust", str(pki.cert_path("root")), "--tsa-trust", str(pki.cert_path("tsa"))]
    done = _verify(tmp_path, *trust, "--at", _at(12), str(letter))
    assert (done.returncode, done.stderr) == (Exit.OK, ""), done.stdout
    assert "WYNIK: dokument ważny" in done.stdout
    assert done.stdout.count("wynik: WAŻNY (PASSED)") == 2

    # After the TSA's certificate expires, nothing vouches for the archive timestamp.
    expired = pki.tsa_cert.not_valid_after + timedelta(days=30)
    done = _verify(tmp_path, *trust, "--at", expired.isoformat(), str(letter))
    assert done.returncode == Exit.CHECK_FAILED
    assert "archive timestamp expired" in done.stdout


@pytest.mark.parametrize("bad", ["jutro", "+3x", "2038-13-01", "+"])
def test_a_bad_at_is_refused_with_exit_2(letter: Path, tmp_path: Path, bad: str) -> None:
    done = _verify(tmp_path, "--at", bad, str(letter))
    assert done.returncode == Exit.REFUSED
    assert "--at" in done.stderr and done.stdout == ""
