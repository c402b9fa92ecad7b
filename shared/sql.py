"""SQL plumbing both services use: engines for SQLite (embedded default) or PostgreSQL
(production), write transactions, and column types for instants and JSON.

SQLite is configured for a multi-threaded, multi-process server: WAL (readers never block the
writer), a busy timeout (writers queue instead of failing at once), foreign keys on. The sqlite3
driver's own transaction handling is switched off so that SQLAlchemy emits BEGIN itself: a plain
deferred `BEGIN` for reads and `BEGIN IMMEDIATE` for connections marked as writers (see
`begin_write`), which takes the write lock up front. A deferred transaction that reads and then
writes could otherwise fail with SQLITE_BUSY on upgrade, with no busy-wait.

Writers queue before `BEGIN IMMEDIATE` instead of inside SQLite's busy handler. The handler
polls: a waiting writer sleeps 1, 2, 5, ... up to 100 ms between attempts, so under contention
it wakes long after the lock is free, and which waiter gets the lock is luck (at 16 concurrent
writers the p99 of a claim submission was over a second). So a writer first takes its process's
lock for the database file (first come, first served: the threads of a gunicorn worker queue
there in order and the oldest is handed the lock at once) and then an exclusive `flock` on a
file beside the database (`<db>-writer`: the workers of one host queue there, polled every
quarter millisecond by at most one thread per process), and only then sends `BEGIN IMMEDIATE`,
which normally finds the lock free. A process that waits for the `flock` says so with a shared
`flock` on `<db>-writer-waiting`; a writer that lets go while another process waits makes its
own process's next writer hold back for half a millisecond, so the other gets its turn
(otherwise a busy worker passes the lock from thread to thread while the others poll: measured
with 3 processes of 4 writing threads, the p99 wait fell from 135–195 ms to 63–101 ms and the
longest from 220–380 ms to 95–140 ms, at the same throughput). Both are
released right after COMMIT or ROLLBACK. Waits stay bounded by the busy timeout (a writer that
cannot get the queue in time fails as SQLITE_BUSY would), and the busy handler still covers
writers that do not queue (another program, another host sharing the file is not supported by
SQLite's WAL anyway).
"""

from __future__ import annotations

import collections
import fcntl
import os
import select
import sqlite3
import threading
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
    exc,
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
        queue = _writer_queue(database)
        connect_args = dict(engine_kwargs.pop("connect_args", {}))
        connect_args.setdefault("factory", _QueuedWriterConnection)
        engine = create_engine(parsed, connect_args=connect_args, **engine_kwargs)
        _configure_sqlite(engine, sqlite_busy_timeout_ms, sqlite_synchronous.upper(), queue)
        return engine
    if backend == "postgresql":
        engine = create_engine(parsed, **engine_kwargs)
        if not engine_kwargs.get("pool_pre_ping"):
            event.listen(engine, "checkout", _check_out_live_postgresql)
        return engine
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _check_out_live_postgresql(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection is handed out only if nothing says it is dead, without a
    round trip to ask (what `pool_pre_ping` costs on every checkout).

    An idle connection has nothing to read: a server that ends it (a restart, an
    administrator's `pg_terminate_backend`, an idle timeout) sends its notice and closes, and
    its socket becomes readable. So a connection the driver knows is closed or broken, or
    whose socket has anything to read, is discarded and the pool connects anew (SQLAlchemy's
    `DisconnectionError` from a checkout hook; the caller never sees it). The services never
    LISTEN, so nothing else arrives on an idle connection. Not covered, as by a ping either
    until TCP gives up: a peer that vanished without a word (a cable cut); the first statement
    then fails and the pool is invalidated as for any lost connection."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise exc.DisconnectionError("the connection was closed")
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        events = poller.poll(0)
    except (OSError, ValueError) as error:
        raise exc.DisconnectionError(f"the connection's socket is gone: {error}") from error
    if events:
        raise exc.DisconnectionError("the server spoke on an idle connection (it ended it)")


class _FifoLock:
    """A lock its waiters get in the order they asked (`threading.Lock` wakes any of them, and
    a newcomer can take it before all of them): released, it is handed to the oldest waiter."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            mine = threading.Lock()
            mine.acquire()
            self._waiters.append(mine)
        if mine.acquire(timeout=max(timeout, 0)):
            return True  # handed over by `release`
        with self._mutex:
            try:
                self._waiters.remove(mine)
            except ValueError:
                return True  # handed over just as the wait ran out: it is ours
        return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # still held: now by the oldest waiter
            else:
                self._held = False


class _WriterQueue:
    """The writers of one SQLite database file in this process (see the module docstring)."""

    def __init__(self, lock_path: str | None) -> None:
        self.lock = _FifoLock()
        self._lock_path = lock_path
        self._fd: int | None = None
        self._waiting_fd: int | None = None
        self._pid = os.getpid()
        self._yield_until = 0.0

    def _open(self) -> None:
        assert self._lock_path is not None
        if self._fd is None:
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        if self._waiting_fd is None:
            self._waiting_fd = os.open(f"{self._lock_path}-waiting", os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        if self._pid != os.getpid():
            # A forked child: the parent's open file (and its flock) are not this process's.
            self.lock, self._fd, self._waiting_fd = _FifoLock(), None, None
            self._pid, self._yield_until = os.getpid(), 0.0
        if not self.lock.acquire(timeout_s):
            return False
        if self._lock_path is None:
            return True
        waiting = False
        try:
            self._open()
            assert self._fd is not None and self._waiting_fd is not None
            pause = self._yield_until - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # another process was waiting when ours last let go
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    if not waiting:
                        try:
                            fcntl.flock(self._waiting_fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                            waiting = True
                        except BlockingIOError:
                            pass
                    time.sleep(_POLL_SECONDS)
        except BaseException:
            self.lock.release()
            raise
        finally:
            if waiting and self._waiting_fd is not None:
                fcntl.flock(self._waiting_fd, fcntl.LOCK_UN)
        self.lock.release()
        return False

    def release(self) -> None:
        if self._fd is not None:
            self._yield_until = 0.0
            if self._waiting_fd is not None and self._others_wait(self._waiting_fd):
                self._yield_until = time.monotonic() + _YIELD_SECONDS
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.lock.release()

    @staticmethod
    def _others_wait(waiting_fd: int) -> bool:
        try:
            fcntl.flock(waiting_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(waiting_fd, fcntl.LOCK_UN)
        return False


_POLL_SECONDS = 0.00025
_YIELD_SECONDS = 0.0005


_WRITER_QUEUES: dict[str, _WriterQueue] = {}
_WRITER_QUEUES_LOCK = threading.Lock()


def _writer_queue(database: str | None) -> _WriterQueue:
    """The process's queue for this database file (one per file, shared by its engines).
    An in-memory database is private to its engine, so it gets a queue of its own."""
    on_disk = bool(database) and database != ":memory:" and not str(database).startswith("file:")
    if not on_disk:
        return _WriterQueue(None)
    key = os.path.abspath(str(database))
    with _WRITER_QUEUES_LOCK:
        queue = _WRITER_QUEUES.get(key)
        if queue is None:
            queue = _WriterQueue(f"{key}-writer")
            _WRITER_QUEUES[key] = queue
        return queue


class _QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that leaves the writer queue once its transaction has ended."""

    writer_queue: _WriterQueue | None = None

    def _leave_queue(self) -> None:
        queue, self.writer_queue = self.writer_queue, None
        if queue is not None:
            queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if self.in_transaction is False:
                self._leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave_queue()


def _configure_sqlite(
    engine: Engine, busy_timeout_ms: int, synchronous: str, queue: _WriterQueue
) -> None:
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
        dbapi = connection.connection.dbapi_connection
        if not options.get(WRITE_OPTION):
            _begin(dbapi, "BEGIN")
            return
        if isinstance(dbapi, _QueuedWriterConnection) and dbapi.writer_queue is None:
            if not queue.acquire(busy_timeout_ms / 1000):
                busy = sqlite3.OperationalError("database is locked (writer queue)")
                busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
                raise exc.OperationalError("BEGIN IMMEDIATE", None, busy)
            dbapi.writer_queue = queue
        try:
            _begin(dbapi, "BEGIN IMMEDIATE")
        except BaseException:
            if isinstance(dbapi, _QueuedWriterConnection):
                dbapi._leave_queue()
            raise


def _begin(dbapi_connection: Any, statement: str) -> None:
    """Send BEGIN straight to the driver (a statement SQLAlchemy would only pass through, at
    a cost per transaction), with its errors wrapped as SQLAlchemy's, as they would be."""
    try:
        dbapi_connection.execute(statement)
    except sqlite3.OperationalError as error:
        raise exc.OperationalError(statement, None, error) from error


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
