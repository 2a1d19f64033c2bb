"""Run the Alembic migrations shipped in ``migrations/`` (``estrategia db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from workflow.config import Settings
from workflow.db import make_engine
from workflow.errors import ErrorCode, InvalidInput

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["settings"] = settings
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            cfg = alembic_config(settings)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
            connection.commit()
    finally:
        engine.dispose()


def require_migrated(settings: Settings) -> None:
    """Refuse, creating nothing, a database that ``db upgrade`` has not made: for commands
    that only read (``audit verify``), which would otherwise create an empty SQLite file and
    fail on a missing table."""
    url = settings.effective_database_url
    where = url.split("@")[-1]  # no credentials in the message
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise InvalidInput("database", ErrorCode.DATABASE_NOT_MIGRATED, database=str(path))
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            migrated = inspect(connection).has_table("alembic_version")
    finally:
        engine.dispose()
    if not migrated:
        raise InvalidInput("database", ErrorCode.DATABASE_NOT_MIGRATED, database=where)
