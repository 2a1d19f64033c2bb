"""Settings: read once from the environment (prefix ``ESTRATEGIA_``) and passed down.

Nothing reads the environment anywhere else; tests build a ``Settings`` of their own.

The local state under ``var_dir`` is private to the account that runs the application,
whatever its umask: ``private_dir`` (0700) and ``private_file`` (0600) set the modes
explicitly, and tighten what an older version left readable to others.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (missing parents made as usual)."""
    path.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR_MODE:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path, mode: int = PRIVATE_FILE_MODE) -> Path:
    """``path`` created empty if missing (never truncated), readable by its owner only."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, mode)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return path


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ESTRATEGIA_", frozen=True)

    var_dir: Path = Field(default=Path("var"), description="Root of the local state.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means a SQLite file under var_dir."
    )
    templates_dir: Path = Field(
        default=Path(__file__).resolve().parent.parent / "templates",
        description="The business's .docx templates loaded by `estrategia demo` and `seed`.",
    )
    secret_key: str = Field(
        default="", description="Signs session cookies; empty means a key kept in var_dir."
    )
    converter_processes: int = Field(default=1, ge=1, le=16)
    converter_timeout_s: float = Field(default=60.0, gt=0)
    soffice: str = "soffice"
    uno_python: str = "/usr/bin/python3"
    max_upload_bytes: int = 10 * 1024 * 1024
    demo: bool = Field(
        default=True,
        description="Demo PKI under var_dir with its TSA/OCSP/CRL served on loopback, and "
        "server-held demo keys for the demo signatories. Off in production.",
    )
    demo_services_port: int = Field(default=8765, description="Port of the demo TSA/OCSP/CRL.")
    signature_level: str = Field(default="B-LTA", description="PAdES level of new signatures.")
    tsa_url: str = Field(default="", description="Production: the TSP's RFC 3161 endpoint.")
    trust_roots: tuple[Path, ...] = Field(
        default=(), description="Production: PEM files of trusted roots for signers."
    )
    tsa_trust_roots: tuple[Path, ...] = Field(
        default=(), description="Production: PEM certificates trusted as timestamp anchors."
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'estrategia.sqlite3').resolve()}"

    @property
    def blobs_dir(self) -> Path:
        return self.var_dir / "blobs"

    @property
    def converter_dir(self) -> Path:
        return self.var_dir / "converter"

    @property
    def pki_dir(self) -> Path:
        return self.var_dir / "pki"

    def effective_secret_key(self) -> str:
        """The configured key, or one generated once and kept in var_dir (mode 0600)."""
        if self.secret_key:
            return self.secret_key
        import contextlib
        import secrets
        import tempfile

        path = self.var_dir / "secret_key"
        private_dir(self.var_dir)
        if path.exists():
            private_file(path)  # an older version made it 0644
        else:
            # Written whole to a private temporary file, then linked into place: a reader
            # never sees a partial key, and of several workers starting together exactly
            # one key wins (link fails if the name exists).
            fd, tmp = tempfile.mkstemp(dir=self.var_dir, prefix=".secret_key.")
            try:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(48))
                    out.flush()
                    os.fsync(out.fileno())
                with contextlib.suppress(FileExistsError):  # another worker won
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        key = path.read_text().strip()
        if len(key) < 32:
            raise ValueError(f"{path} holds no usable key (under 32 characters): remove it")
        return key
