"""The local state is private whatever the umask: var/ and its folders 0700, the database
(with its -wal and -shm), the secret key and the demo PKI's keys 0600, blobs 0400."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from workflow.config import Settings
from workflow.db import transaction
from workflow.demo.pki import ensure_demo_pki
from workflow.migrate import upgrade
from workflow.runtime import build_runtime
from workflow.storage.blobs import store_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: every mode below is set by the code, not inherited."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
def test_var_and_everything_in_it_is_private(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    upgrade(settings)
    rt = build_runtime(settings)
    try:
        settings.effective_secret_key()
        with transaction(rt.sessions) as session:
            sha = store_file(session, rt.blobs, b"a private file", "application/pdf")
        with rt.engine.connect() as connection:  # -wal and -shm exist while it is open
            connection.execute(text("SELECT 1"))
            database = settings.var_dir / "estrategia.sqlite3"
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            assert {p.name: oct(_mode(p)) for p in files} == {p.name: "0o600" for p in files}
    finally:
        rt.close()
    assert oct(_mode(settings.var_dir)) == "0o700"
    assert oct(_mode(settings.var_dir / "secret_key")) == "0o600"
    blob = settings.blobs_dir / sha[:2] / sha[2:]
    assert oct(_mode(settings.blobs_dir)) == oct(_mode(blob.parent)) == "0o700"
    assert oct(_mode(blob)) == "0o400"


@pytest.mark.usefixtures("open_umask")
def test_the_demo_pki_is_private(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    pki = ensure_demo_pki(settings)  # the first thing `estrategia pki init` does
    assert oct(_mode(settings.var_dir)) == "0o700"
    assert oct(_mode(settings.pki_dir)) == "0o700"
    keys = [*pki.directory.glob("keys/*"), *pki.directory.glob("signatories/*.p12")]
    assert keys
    assert {k.name: oct(_mode(k)) for k in keys} == {k.name: "0o600" for k in keys}


@pytest.mark.usefixtures("open_umask")
def test_an_older_install_is_tightened(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    (var / "estrategia.sqlite3").touch(mode=0o644)
    (var / "secret_key").write_text("k" * 48)
    os.chmod(var / "secret_key", 0o644)
    settings = Settings(var_dir=var)
    upgrade(settings)
    settings.effective_secret_key()
    assert oct(_mode(var)) == "0o700"
    assert oct(_mode(var / "estrategia.sqlite3")) == "0o600"
    assert oct(_mode(var / "secret_key")) == "0o600"
