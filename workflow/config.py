"""Settings: read once from the environment (prefix ``ESTRATEGIA_``) and passed down.

Nothing reads the environment anywhere else; tests build a ``Settings`` of their own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    demo: bool = Field(default=True, description="Demo PKI and demo services on loopback.")

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
        import secrets

        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
