"""Engine, sessions and the declarative base.

SQLite is the embedded default. Its writers are serialised with ``BEGIN IMMEDIATE`` so that
a transaction that read a row and then writes cannot fail half-way with "database is locked"
on lock upgrade. Read-only use-cases take their sessions from ``make_read_session_factory``,
whose transactions start with a plain (deferred) ``BEGIN``: with WAL they never wait for a
writer. PostgreSQL runs at READ COMMITTED and
relies on conditional UPDATEs and ``SELECT ... FOR UPDATE`` where order matters (audit.py).

Work outside the database that must follow the fate of a transaction registers with
``on_commit`` / ``on_rollback`` (the blob store makes its files visible this way). The
callbacks of a savepoint that rolls back run as rollbacks at once; those of a savepoint
that is released wait for the outermost transaction. They run in the order registered,
after the fact: a commit callback cannot undo the commit, so it logs its failure instead of
raising (its owner must be able to finish the work later, see ``storage.blobs``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Engine, Executable, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker

from workflow.config import Settings, private_dir, private_file

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_READ_ONLY = "estrategia_read_only"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(settings: Settings) -> Engine:
    url = settings.effective_database_url
    # A connection for each request the app works on at once and each job of the embedded
    # worker, kept open: with SQLAlchemy's default (5 kept), the 6th concurrent request
    # opened and closed a connection each time (its PRAGMAs, or a PostgreSQL log-in) and
    # took about twice as long (bench/web.py).
    pool = {"pool_size": settings.ops.web_threads + settings.jobs.concurrency + 2}
    if url.startswith("sqlite"):
        private_dir(settings.var_dir)
        _private_sqlite_files(url)
        engine = create_engine(url, connect_args={"timeout": 30}, **pool)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **pool)
    _name_connections(engine)
    return engine


def _name_connections(engine: Engine) -> None:
    """Each PostgreSQL connection says which process holds it (``application_name``
    ``estrategia:<pid>``, read at connect time, so after any fork): ``pg_stat_activity``
    then tells an operator which server or worker holds a lock or waits for one, and which
    one to stop."""

    @event.listens_for(engine, "do_connect")
    def _name(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams.setdefault("application_name", f"estrategia:{os.getpid()}")


def _private_sqlite_files(url: str) -> None:
    """The database file exists, mode 0600, before SQLite opens it: SQLite gives its -wal
    and -shm files the mode of the database file. Files of an older install are tightened."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        sibling = path.with_name(path.name + suffix)
        if sibling.exists():
            private_file(sibling)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN IMMEDIATE below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def read_rows(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """The rows of a Core ``select`` of columns, run on the session's connection: no ORM
    execution layer, a third less time a statement on the pages' reads. Changes pending in
    the session are flushed first, as ``session.execute`` would (a clean session: nothing)."""
    session.flush()
    return session.connection().execute(statement, params)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return _with_hooks(sessionmaker(engine, expire_on_commit=False))


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for use-cases that only read (see the module docstring)."""
    return _with_hooks(
        sessionmaker(engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
    )


_HOOKED = "estrategia.transaction_hooks"
_PENDING = "estrategia.pending_callbacks"


@dataclass(frozen=True, eq=False)
class _Callback:
    transaction: SessionTransaction
    """The innermost transaction open when it was registered."""
    run: Callable[[], None]
    on_commit: bool


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the outermost transaction of ``session`` has committed."""
    _register(session, callback, on_commit=True)


def on_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` if the current transaction (or savepoint) of ``session`` rolls back,
    or ends without a commit."""
    _register(session, callback, on_commit=False)


def _register(session: Session, callback: Callable[[], None], *, on_commit: bool) -> None:
    if not session.info.get(_HOOKED):
        raise RuntimeError("the session does not come from make_session_factory: no hooks run")
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        raise RuntimeError("no transaction is open on the session")
    pending: list[_Callback] = session.info.setdefault(_PENDING, [])
    pending.append(_Callback(transaction, callback, on_commit))


def _with_hooks(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    factory.kw["info"] = {**factory.kw.get("info", {}), _HOOKED: True}
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_soft_rollback", _after_soft_rollback)
    event.listen(factory, "after_transaction_end", _after_transaction_end)
    return factory


def _run(callbacks: list[_Callback], *, committed: bool) -> None:
    for c in callbacks:
        if c.on_commit is committed:
            try:
                c.run()
            except Exception:  # the transaction has ended either way; its owner recovers
                log.exception("%s callback failed", "commit" if committed else "rollback")


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: its callbacks wait for the outermost commit
    _run(session.info.pop(_PENDING, []), committed=True)


def _within(transaction: SessionTransaction, ended: SessionTransaction) -> bool:
    t: SessionTransaction | None = transaction
    while t is not None:
        if t is ended:
            return True
        t = t.parent
    return False


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    undone: list[_Callback] = []
    kept: list[_Callback] = []
    for c in session.info.get(_PENDING, []):
        (undone if _within(c.transaction, previous_transaction) else kept).append(c)
    if undone:
        session.info[_PENDING] = kept
        _run(undone, committed=False)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost ended without committing its callbacks
        _run(session.info.pop(_PENDING, []), committed=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back everything if it raises."""
    with factory() as session, session.begin():
        yield session
