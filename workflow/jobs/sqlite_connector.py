"""A procrastinate connector over a SQLite file: procrastinate's queue, our storage.

procrastinate 3.10 talks to its database through a connector that runs the SQL of
``procrastinate/sql/queries.sql``. Like procrastinate's own ``testing.InMemoryConnector``,
``SQLiteConnector`` maps each of those queries back to its name and runs, in SQLite, what
the PostgreSQL query and its PL/pgSQL function do: defer (``queueing_lock`` refused with
procrastinate's ``UniqueViolation``, so ``AlreadyEnqueued`` as on PostgreSQL), periodic
defers once per timestamp, fetch (FIFO by priority then id, ``scheduled_at``, no two
``doing`` jobs with one ``lock``), finish, retry, cancel and abort, the job manager's
listings, worker registration, heartbeats, pruning and stalled jobs. The tables are those
of ``sqlite_schema``.

    app = procrastinate.App(connector=SQLiteConnector("var/estrategia.sqlite3"))

Several threads and processes may share one file: the file is in WAL mode, every write
is one ``BEGIN IMMEDIATE`` transaction (two workers never fetch the same job), and a busy
connection waits up to ``busy_timeout_s``. Each connector keeps one connection, opened
on first use (nothing at import or construction), in one thread of its own; coroutines
await that thread and never block the event loop. The sync methods (``task.defer()``
from a plain thread, ``job_manager.list_jobs``...) call the same thread and wait, so
``get_sync_connector()`` is the connector itself.

There is no LISTEN/NOTIFY. ``listen_notify`` wakes listeners of the same process at once
(any connector on the same file, e.g. the embedded worker of ``estrategia serve``); a
worker in another process sees a new job or an abort request at its next poll:
``fetch_job_polling_interval`` and ``abort_job_polling_interval`` of ``run_worker``
(procrastinate's defaults: 5 s each).

``*_with_connection`` (``task.configure(connection=conn).defer()``) runs on the caller's
``sqlite3.Connection``, inside the caller's transaction, under a savepoint: the job
exists if and only if the caller commits. A worker is notified at once but may fetch
before that commit; it then finds the job at its next poll.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procrastinate import connector, exceptions, schema, sql

from workflow.jobs.sqlite_queries import WRITES, Notice, Queries, Row
from workflow.jobs.sqlite_schema import create_schema

__all__ = ["SQLiteConnector", "create_schema"]

ANY_QUEUE_CHANNEL = "procrastinate_any_queue_v1"
QUEUE_CHANNEL_PREFIX = "procrastinate_queue_v1#"


@functools.cache
def _query_names() -> dict[str, str]:
    names = {query: name for name, query in sql.queries.items()}
    raw_schema = schema.SchemaManager.get_schema()
    names[raw_schema] = names[raw_schema.replace("%", "%%")] = "apply_schema"
    return names


# --- in-process notifications (what LISTEN/NOTIFY does on PostgreSQL) ---------------------


@dataclass(eq=False)
class _Listener:
    loop: asyncio.AbstractEventLoop
    on_notification: connector.Notify
    channels: frozenset[str]
    tasks: set[asyncio.Future[None]] = field(default_factory=set)

    def deliver(self, channel: str, payload: str) -> None:
        """Runs in the listener's loop."""
        task = asyncio.ensure_future(self.on_notification(channel=channel, payload=payload))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


_listeners: dict[str, list[_Listener]] = {}
_listeners_lock = threading.Lock()


def _notify(database: str, notices: Sequence[Notice]) -> None:
    if not notices:
        return
    with _listeners_lock:
        listeners = list(_listeners.get(database, ()))
    for queue_name, notification in notices:
        payload = json.dumps(notification)
        channels = {ANY_QUEUE_CHANNEL, QUEUE_CHANNEL_PREFIX + queue_name}
        for listener in listeners:
            for channel in channels & listener.channels:
                # RuntimeError: that loop is closed, its worker is gone.
                with contextlib.suppress(RuntimeError):
                    listener.loop.call_soon_threadsafe(listener.deliver, channel, payload)


# --- the connector -------------------------------------------------------------------------


class SQLiteConnector(connector.BaseAsyncConnector):
    """procrastinate's connector on the SQLite file ``path`` (created if missing; its
    tables come from ``create_schema``, the Alembic revision 0003 or
    ``app.schema_manager.apply_schema()``)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout_s: float = 30.0,
        json_dumps: Callable[[Any], str] | None = None,
        json_loads: Callable[[str], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.json_dumps = json_dumps
        self.json_loads = json_loads
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLiteConnector({str(self.path)!r})"

    # -- opening and closing --

    def get_sync_connector(self) -> connector.BaseConnector:
        return self

    def open(self, pool: connector.Pool | None = None) -> None:
        self._reject_pool(pool)
        self._submit(self._own_connection).result()

    async def open_async(self, pool: connector.Pool | None = None) -> None:
        self._reject_pool(pool)
        await asyncio.wrap_future(self._submit(self._own_connection))

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(self._close_connection).result()
            executor.shutdown(wait=True)

    async def close_async(self) -> None:
        await asyncio.to_thread(self.close)

    @staticmethod
    def _reject_pool(pool: connector.Pool | None) -> None:
        if pool is not None:
            raise exceptions.ConnectorException("SQLiteConnector opens its own connection")

    def _submit(self, fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="procrastinate-sqlite"
                )
            return self._executor.submit(fn)

    def _own_connection(self) -> sqlite3.Connection:
        """The connector's connection; only ever used in the connector's thread."""
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
            # WAL lets readers and one writer work at once. It stays set in the file, so
            # only a file that is not in WAL yet is switched (that needs it unused).
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._connection = conn
        return self._connection

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @property
    def _database(self) -> str:
        """The key of in-process notifications: the file, however it was named."""
        return os.path.realpath(self.path)

    # -- running a query --

    def _run_own(self, query: str, arguments: dict[str, Any]) -> list[Row]:
        name = _query_name(query)
        rows, notices = self._submit(lambda: self._transaction(name, arguments)).result()
        _notify(self._database, notices)
        return rows

    async def _run_own_async(self, query: str, arguments: dict[str, Any]) -> list[Row]:
        name = _query_name(query)
        rows, notices = await asyncio.wrap_future(
            self._submit(lambda: self._transaction(name, arguments))
        )
        _notify(self._database, notices)
        return rows

    def _transaction(self, name: str, arguments: dict[str, Any]) -> tuple[list[Row], list[Notice]]:
        """Run one query in its own transaction, in the connector's thread."""
        conn = self._own_connection()
        if name == "apply_schema":
            _wrap_errors(create_schema, conn)
            return [], []
        notices: list[Notice] = []
        run = _handler(self._queries(conn, notices), name)

        def transaction() -> list[Row]:
            conn.execute("BEGIN IMMEDIATE" if name in WRITES else "BEGIN")
            try:
                rows: list[Row] = run(**arguments)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return rows

        return _wrap_errors(transaction), notices

    def _run_external(
        self, connection: sqlite3.Connection, query: str, arguments: dict[str, Any]
    ) -> list[Row]:
        """Run one query on the caller's connection and transaction, in the caller's
        thread, under a savepoint (an error leaves the caller's transaction as it was)."""
        if not isinstance(connection, sqlite3.Connection):
            raise exceptions.ConnectorException(
                "SQLiteConnector needs a sqlite3.Connection"
                " (SQLAlchemy: connection.connection.driver_connection)"
            )
        notices: list[Notice] = []
        run = _handler(self._queries(connection, notices), _query_name(query))

        def savepoint() -> list[Row]:
            connection.execute("SAVEPOINT procrastinate")
            try:
                rows: list[Row] = run(**arguments)
            except BaseException:
                connection.execute("ROLLBACK TO procrastinate")
                connection.execute("RELEASE procrastinate")
                raise
            connection.execute("RELEASE procrastinate")
            return rows

        rows = _wrap_errors(savepoint)
        _notify(self._database, notices)
        return rows

    # -- procrastinate's connector interface --

    def execute_query(self, query: str, **arguments: Any) -> None:
        self._run_own(query, arguments)

    def execute_query_one(self, query: str, **arguments: Any) -> Row:
        return _one(self._run_own(query, arguments))

    def execute_query_all(self, query: str, **arguments: Any) -> list[Row]:
        return self._run_own(query, arguments)

    async def execute_query_async(self, query: str, **arguments: Any) -> None:
        await self._run_own_async(query, arguments)

    async def execute_query_one_async(self, query: str, **arguments: Any) -> Row:
        return _one(await self._run_own_async(query, arguments))

    async def execute_query_all_async(self, query: str, **arguments: Any) -> list[Row]:
        return await self._run_own_async(query, arguments)

    def execute_query_one_with_connection(
        self, connection: Any, query: str, **arguments: Any
    ) -> Row:
        return _one(self._run_external(connection, query, arguments))

    def execute_query_all_with_connection(
        self, connection: Any, query: str, **arguments: Any
    ) -> list[Row]:
        return self._run_external(connection, query, arguments)

    # A sqlite3 connection belongs to the thread that made it: the async variants run on
    # the caller's (loop) thread; one statement on a local file is short.
    async def execute_query_one_async_with_connection(
        self, connection: Any, query: str, **arguments: Any
    ) -> Row:
        return _one(self._run_external(connection, query, arguments))

    async def execute_query_all_async_with_connection(
        self, connection: Any, query: str, **arguments: Any
    ) -> list[Row]:
        return self._run_external(connection, query, arguments)

    async def listen_notify(
        self, on_notification: connector.Notify, channels: Iterable[str]
    ) -> None:
        """Receive the notifications of this process until cancelled (as PostgreSQL's
        listener does); other processes are seen by polling."""
        listener = _Listener(asyncio.get_running_loop(), on_notification, frozenset(channels))
        with _listeners_lock:
            _listeners.setdefault(self._database, []).append(listener)
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
        finally:
            with _listeners_lock:
                _listeners[self._database].remove(listener)

    # -- values in and out --

    def _queries(self, conn: sqlite3.Connection, notices: list[Notice]) -> Queries:
        return Queries(conn, notices, self.json_dumps or json.dumps, self.json_loads or json.loads)


def _query_name(query: str) -> str:
    try:
        return _query_names()[query]
    except KeyError:
        raise exceptions.ConnectorException(
            f"SQLiteConnector does not know this query: {query[:80]!r}"
        ) from None


def _handler(handlers: Queries, name: str) -> Callable[..., list[Row]]:
    if name.startswith("_") or not hasattr(handlers, name):
        raise exceptions.ConnectorException(f"SQLiteConnector does not run the query {name!r}")
    method: Callable[..., list[Row]] = getattr(handlers, name)
    return method


def _one(rows: list[Row]) -> Row:
    if not rows:
        raise exceptions.NoResult
    return rows[0]


def _wrap_errors(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """sqlite3 errors as procrastinate's connector errors, as ``psycopg_connector`` does."""
    try:
        return fn(*args, **kwargs)
    except sqlite3.Error as exc:
        raise exceptions.ConnectorException(f"{type(exc).__name__}: {exc}") from exc
