"""SQL plumbing both services use: engines for SQLite (embedded default) or PostgreSQL
(production), write transactions, and column types for instants and JSON.

SQLite is configured for a multi-threaded, multi-process server: WAL (readers never block the
writer), a busy timeout (writers queue instead of failing at once), foreign keys on. The sqlite3
driver's own transaction handling is switched off so that SQLAlchemy emits BEGIN itself: a plain
deferred `BEGIN` for reads and `BEGIN IMMEDIATE` for connections marked as writers (see
`begin_write`), which takes the write lock up front. A deferred transaction that reads and then
writes could otherwise fail with SQLITE_BUSY on upgrade, with no busy-wait.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Table,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url

# A custom execution option: a connection carrying it begins its transactions as a writer.
WRITE_OPTION = "bridges_write"


def make_engine(
    url: str,
    *,
    sqlite_busy_timeout_ms: int = 30_000,
    sqlite_synchronous: str = "FULL",
    **engine_kwargs: Any,
) -> Engine:
    """An engine for `url`, configured for a service's SQLite or PostgreSQL usage."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **engine_kwargs)
        _configure_sqlite(engine, sqlite_busy_timeout_ms, sqlite_synchronous.upper())
        return engine
    if backend == "postgresql":
        engine_kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **engine_kwargs)
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, synchronous: str) -> None:
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"bad PRAGMA synchronous value {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" hook below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            _use_wal(cursor, busy_timeout_ms)
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


def _use_wal(cursor: Any, busy_timeout_ms: int) -> None:
    """Switch the database to WAL (a persistent setting, so normally a no-op).

    The switch needs the database to itself and can fail with "database is locked" without
    waiting on the busy timeout, e.g. when several processes open a new database at once: retry.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed on normal exit, rolled back on error.

    On SQLite the transaction starts with `BEGIN IMMEDIATE` (the database's single write lock,
    waited for up to the busy timeout); on PostgreSQL it is an ordinary transaction.
    """
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


def insert_for(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's own INSERT for `table`, which offers `on_conflict_do_nothing/_update`."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database {name!r}: use sqlite or postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: accepts aware datetimes only, stores UTC, always returns aware UTC.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the UTC wall time is stored and
    the zone is put back on read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: instants must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_type() -> Any:
    """JSON on SQLite, JSONB on PostgreSQL; Python `None` is stored as SQL NULL."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
