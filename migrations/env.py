"""Alembic environment: the URL comes from Settings (or the caller's config), never a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from workflow import models  # noqa: F401  # registers every table on Base.metadata
from workflow.config import Settings
from workflow.db import Base, make_engine

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.attributes.get("settings") or Settings())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
