"""The ledger's event store: streams with optimistic concurrency, and one gap-free feed.

Writing. `EventStore.unit_of_work()` opens ONE write transaction. Its locks come first, before
anything it reads or writes:

- SQLite has one writer: the transaction begins with `BEGIN IMMEDIATE`, and that is all.
- PostgreSQL: a command that decides only on named aggregates calls `uow.lock(names)` first:
  `pg_advisory_xact_lock_shared(WRITER_LOCK_KEY)` plus an exclusive advisory lock per name
  (`lock_key`, sorted, so two commands never wait for each other in a cycle). Commands on
  different claims run at the same time; two on one claim queue. A command that declares
  nothing takes `pg_advisory_xact_lock(WRITER_LOCK_KEY)` (exclusive) at its first use of the
  unit of work: it waits for every narrow writer and excludes them all, so it decides as if
  alone, as every command did before narrow locks existed (the safe default). The hot commands
  (submit, the claim actions, record payment, which locks EVERY claim it allocates to, so two
  payments can never both see a claim unpaid) take narrow locks (services/ledger/application.py).
  The lock statements go in one psycopg pipeline (after its BEGIN, which psycopg waits for):
  when the first use is an append, its INSERT goes in the same pipeline, one round trip. The
  server runs them in order, so the INSERT runs only once every lock is granted, and after a
  refused lock (lock_timeout: `WriterBusy`) it runs nothing more.

  Decisions stay consistent: whatever a narrow command reads and decides on is an aggregate it
  has locked (its claim's stream and view row, the claims it pays) or something only exclusive
  commands change (agreements, organisations, receipts); whatever it writes is keyed by what
  it locked (a claim's events, data key and view row) or new (a payment's stream).

  Appending is ONE statement: INSERT ... SELECT that inserts nothing unless the stream is at
  the expected version (a gap is refused like a stale version) and no event id is already
  stored (on PostgreSQL the unique index skips a stored id and the append takes back the rest
  of what it wrote), ordered by version, so positions follow versions. On SQLite it selects
  FROM (VALUES ...), a row of placeholders per event; on PostgreSQL it is the same text for
  any number of events (their ids, types and versions as arrays through `unnest`, their data
  as one JSON array), so the driver parses it once and the server prepares it once. Event ids
  are UUID version 7 (time-ordered, `shared.events.envelope.new_event_id`), so the unique
  index on them takes each new id beside the last. A refusal leaves the transaction usable
  (nothing failed). `UNIQUE(stream_id, stream_version)` and `UNIQUE(event_id)` back it up
  for a writer that raced without its lock; on PostgreSQL that error aborts the transaction,
  so the unit of work must end (nothing in the ledger does this).
  It runs on the driver's cursor (not through SQLAlchemy's result machinery, a cost per
  append); its errors are wrapped as SQLAlchemy's own, as `exec_driver_sql` would.

The feed's order. Global positions (an identity) are drawn as rows are inserted, and on
PostgreSQL transactions with concurrent writers commit out of position order: a reader that
saw position 8 would never see a 7 that commits later. So on PostgreSQL each event also stores
its transaction's id (`transaction_id xid8 DEFAULT pg_current_xact_id()`, migration 0009) and
the feed is ordered by (transaction_id, global_position), and a reader is served only events
of transactions below the statement snapshot's horizon: its xmax, lowered to every
transaction the snapshot saw still running except those known to be in another database of
the server or to be autovacuum's (`_HORIZON`; plain `pg_snapshot_xmin` would let a long
transaction in another service's database stall this feed). Every transaction below the
horizon has finished, and every later one gets a higher id, so nothing can ever appear behind
what a reader was given: the feed is gap-free, in the order transactions took their ids.

Per-stream order follows from the locks: a transaction's id is drawn at its first write, AFTER
its locks were granted (`UnitOfWork.lock` checks `pg_current_xact_id_if_assigned() IS NULL`),
so a later writer of the same stream (which waited for the lock until the earlier one
committed) always has a higher id. Within a transaction positions follow the appends.

A consequence for readers that write: a transaction holding an id holds back the horizon, so
a reader must read the feed in a transaction of its own, not in the one that records what it
read (the relay reads with `read_feed`, then records its position in a separate transaction).
A unit of work that stays open holds the feed back until it commits: units of work must be
short (load, decide, append, commit; no network calls inside).

The cursor stays an integer: `read_feed(after=N)` means after the event at global position N
(look up its transaction id t_N, then `(transaction_id, global_position) > (t_N, N)`); 0 is
the start. An N that is no stored event's position raises `UnknownPosition` (`GET /events`
answers 422): there is no telling where it would fall in the feed's order. SQLite keeps the
position order (one writer: positions become visible strictly in order) and leaves
transaction_id 0; its positions are the rowid, without AUTOINCREMENT (migration 0012: nothing
deletes events, so the highest position only grows and none is given out twice). Positions
are increasing but not contiguous (a rolled-back insert on
PostgreSQL burns its value), and on PostgreSQL the feed's last event need not have the highest
position: `count_after` says how far a reader is behind, not `last_position()` − N.

Known limit: the transaction ids are the server's. A logical restore (pg_restore) into another
server keeps the stored ids; if that server's ids are lower, new events would sort before the
restored ones. Restore into a server whose current id (`SELECT pg_current_xact_id()`) is
above the highest restored one, or renumber (see docs/operations.md).

Reads outside a unit of work take no lock.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Row,
    Select,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from services.ledger.store.data_keys import DataKeys
from services.ledger.store.engine import WRITE_OPTION, insert_for
from services.ledger.store.tables import events, relay_progress
from shared import clock as product_clock
from shared.events.envelope import NewEvent, StoredEvent

# "bridges1" in ASCII: the key of the transaction-scoped advisory lock that serialises writers.
WRITER_LOCK_KEY = 0x6272696467657331


class EventStoreError(Exception):
    """Base class of the event store's own errors."""


class ConcurrencyConflict(EventStoreError):
    """The stream is not at the version the command was decided against."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id!r} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateEvent(EventStoreError):
    """An event with this id is already stored (or appears twice in one append)."""

    def __init__(self, event_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"duplicate event id(s): {', '.join(map(str, event_ids))}")
        self.event_ids = tuple(event_ids)


class WriterBusy(EventStoreError):
    """A lock (the writer lock, or a row lock a statement waited for) was not granted within
    the configured timeout: retry later."""


class UnknownPosition(EventStoreError, ValueError):
    """`after` names no stored event: a feed cursor is 0 or a position the feed gave out."""

    def __init__(self, position: int) -> None:
        super().__init__(f"no event has global position {position}")
        self.position = position


def lock_key(name: str) -> int:
    """The signed 64-bit advisory lock id of a lock name (`claim:<id>`, ...)."""
    digest = hashlib.sha256(f"bridges lock\n{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# Takes a unit of work's locks on its connection: the named ones (with the writers' lock
# shared), or None for the writers' lock alone, exclusive; then runs `then` (a statement and
# its parameters, or None) and returns its rows (PostgreSQL sends both in one round trip).
_Locker = Callable[
    [Connection, "Sequence[str] | None", "tuple[str, Sequence[Any]] | None"],
    "list[tuple[Any, ...]] | None",
]


class UnitOfWork:
    """One write transaction: take its locks, read what the decision needs, append.

    Locks come first (see the module docstring): `lock(*names)` before anything else for a
    command that decides on named aggregates only; otherwise the first use of the connection
    (a read, an append, the data keys) takes the exclusive writers' lock, as every command did
    before narrow locks existed. `connection_before_locks` is for what must run before the
    locks and decides nothing (the Idempotency-Key's own lock and record).
    """

    def __init__(self, connection: Connection, *, locker: _Locker | None = None) -> None:
        self._connection = connection
        self._open = True
        self._locker = locker
        self._locked = locker is None  # a read-only unit of work (Ledger.reading) takes none
        self._exclusive = False
        self._touched = False
        self._data_keys: DataKeys | None = None
        self._after_commit: list[Callable[[], object]] = []

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for writes that must commit with the events."""
        self._check_open()
        if not self._locked:
            self._take(None)
        return self._connection

    @property
    def connection_before_locks(self) -> Connection:
        """The connection without taking the writers' lock: only for reads that decide nothing
        and for taking other locks that are not waited for (`pg_try_advisory_xact_lock`)."""
        self._check_open()
        self._touched = True
        return self._connection

    @property
    def data_keys(self) -> DataKeys:
        """The personal data keys this unit of work uses, loaded once each (data_keys.py)."""
        if self._data_keys is None:
            self._data_keys = DataKeys(self.connection)
        return self._data_keys

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call `callback` once this unit of work has committed (not if it rolls back)."""
        self._after_commit.append(callback)

    def lock(self, *names: str) -> None:
        """Take this command's locks: exclusive locks on the named aggregates (sorted, so two
        commands never wait for each other in a cycle) and the writers' lock shared, so
        commands on other aggregates run at the same time and the exclusive writers wait.

        Must be the first thing the unit of work does (once the exclusive writers' lock is held
        it is a no-op). On SQLite (one writer) it only records that the locks were asked for.
        An empty `names` is the exclusive writers' lock."""
        self._check_open()
        if self._exclusive:
            return  # already excludes every other writer (taken at the first use, say)
        if self._locked:
            raise RuntimeError("a unit of work takes its locks once, before anything else")
        self._take(sorted(set(names)) if names else None)

    def _take(
        self, names: Sequence[str] | None, then: tuple[str, Sequence[Any]] | None = None
    ) -> list[tuple[Any, ...]] | None:
        assert self._locker is not None
        self._locked, self._exclusive = True, names is None
        return self._locker(self._connection, names, then)

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        """The stream's events in version order (empty if it does not exist)."""
        return _read_stream(self.connection, stream_id)

    def read_streams(self, stream_ids: Iterable[str]) -> list[StoredEvent]:
        """The events of several streams, in global order."""
        return _read_streams(self.connection, stream_ids)

    def read_by_partition_key(
        self,
        partition_key: str,
        after: int = 0,
        types: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Events with this partition key (optionally only these types), in global order."""
        return _read_by_partition_key(self.connection, partition_key, after, types, limit)

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version: 0 if it has no events."""
        return _stream_version(self.connection, stream_id)

    def append(
        self,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        *,
        partition_key: str,
        actor: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> list[StoredEvent]:
        """Append `new_events` as versions `expected_version + 1, ...` of the stream.

        Raises `ConcurrencyConflict` if the stream is not at `expected_version` and
        `DuplicateEvent` if an event id is already stored. The events are only written when the
        unit of work commits; after either error the transaction is still usable.
        """
        self._check_open()
        if expected_version < 0:
            raise ValueError(f"expected_version must be >= 0, got {expected_version}")
        if not new_events:
            connection = self.connection
            actual = _stream_version(connection, stream_id)
            if actual != expected_version:
                raise ConcurrencyConflict(stream_id, expected_version, actual)
            return []
        event_ids = [event.event_id for event in new_events]
        if len(set(event_ids)) != len(event_ids):
            raise DuplicateEvent(sorted({i for i in event_ids if event_ids.count(i) > 1}, key=str))
        when = _as_utc(occurred_at) if occurred_at is not None else product_clock.now()
        # Serialised once: the text is what is stored, and what it parses to is what we return
        # (exactly what a reader will get back).
        texts = [json.dumps(dict(event.data)) for event in new_events]
        connection = self._connection
        insert = _append_statement(connection.dialect, len(new_events))
        parameters = insert.parameters(
            new_events,
            texts,
            (stream_id, partition_key, insert.when(when), actor, correlation_id, causation_id),
            expected_version,
        )
        try:
            if self._locked:
                rows: list[tuple[Any, ...]] | None = _execute(connection, insert.sql, parameters)
            else:  # the first use: the writers' lock, then the insert (one round trip)
                rows = self._take(None, (insert.sql, parameters))
            assert rows is not None
        except IntegrityError as error:
            # Only a writer racing for the stream without holding its lock gets here (see the
            # module docstring). On PostgreSQL the transaction is now aborted: the unit of work
            # must end, so nothing more is asked of the database.
            raise _explain_integrity_error(error, stream_id, expected_version, event_ids) from error
        if not rows:  # the statement's own checks refused it: nothing was written
            raise _explain_refusal(connection, stream_id, expected_version, event_ids)
        if len(rows) != len(new_events):
            # PostgreSQL skips an event whose id is stored (ON CONFLICT DO NOTHING): take back
            # the others (never committed, seen by no one) and refuse the append as a whole.
            _take_back(connection, [int(position) for position, _ in rows])
            raise _explain_refusal(connection, stream_id, expected_version, event_ids)
        positions = {int(version): int(position) for position, version in rows}
        return [
            StoredEvent(
                global_position=positions[version],
                event_id=event.event_id,
                type=event.type,
                schema_version=event.schema_version,
                stream_id=stream_id,
                stream_version=version,
                partition_key=partition_key,
                occurred_at=when,
                actor=actor,
                correlation_id=correlation_id,
                causation_id=causation_id,
                data=json.loads(text),
            )
            for version, (event, text) in enumerate(
                zip(new_events, texts, strict=True), start=expected_version + 1
            )
        ]

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("this unit of work has ended")

    def _close(self) -> None:
        self._open = False


class EventStore:
    """The event log: write through `unit_of_work()`, read through the other methods.

    `lock_timeout_seconds` bounds the wait for the writer lock on PostgreSQL; on SQLite the wait
    is the engine's busy timeout (`make_engine(..., sqlite_busy_timeout_ms=...)`).
    """

    def __init__(self, engine: Engine, *, lock_timeout_seconds: float = 30.0) -> None:
        self._engine = engine
        # Its connections begin as writers (the option set once, not per unit of work).
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._lock_timeout_ms = int(lock_timeout_seconds * 1000)

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """A write transaction; commits on exit, rolls back on error. Its locks are taken by
        `UnitOfWork.lock` or, by default, at its first use (see `UnitOfWork`).

        Raises `WriterBusy` if a lock is not granted within the lock timeout (the locks of
        `lock`, or a row lock any statement of the unit of work waited for).
        """
        with self._writer.connect() as connection:
            try:
                transaction = connection.begin()  # SQLite: BEGIN IMMEDIATE, may wait
            except OperationalError as error:
                raise _writer_busy_or(error) from error
            with transaction:
                postgresql = connection.dialect.name == "postgresql"
                unit = UnitOfWork(connection, locker=self._lock if postgresql else _single_writer)
                try:
                    yield unit
                    if not unit._locked and not unit._touched:
                        unit._take(None)  # an empty unit of work still waits its turn
                    transaction.commit()
                except OperationalError as error:
                    # `lock_timeout` also bounds waits on row locks (claim_totals, ...): any
                    # statement's lock timeout is the same "busy, retry later".
                    busy = _writer_busy_or(error)
                    if busy is error:
                        raise
                    raise busy from error
                finally:
                    unit._close()
            for callback in unit._after_commit:
                callback()

    def _lock(
        self,
        connection: Connection,
        names: Sequence[str] | None,
        then: tuple[str, Sequence[Any]] | None = None,
    ) -> list[tuple[Any, ...]] | None:
        """PostgreSQL: the locks, and then `then` if given, in one round trip: psycopg's
        pipeline sends the transaction's BEGIN, each lock statement (every value in them is an
        integer of ours) and `then` together, and the server runs them in order, so `then`
        runs only once the locks are granted (after an error it runs nothing more). First it
        checks that the transaction has no id yet: its id, which orders its events in the
        feed, must be drawn after the locks are granted."""
        if names is None:
            locks = [f"SELECT pg_advisory_xact_lock({int(WRITER_LOCK_KEY)})"]
        else:
            locks = [
                f"SELECT pg_advisory_xact_lock_shared({int(WRITER_LOCK_KEY)})",
                *(f"SELECT pg_advisory_xact_lock({int(lock_key(name))})" for name in names),
            ]
        statements = [
            "SELECT pg_current_xact_id_if_assigned() IS NULL",
            f"SET LOCAL lock_timeout = '{int(self._lock_timeout_ms)}ms'",
            *locks,
        ]
        dbapi_connection: Any = connection.connection.dbapi_connection
        cursors = [dbapi_connection.cursor() for _ in range(2)]
        statement: str | None = None
        try:
            with dbapi_connection.pipeline():
                _told(connection, cursors[0], statements[0], ())
                cursors[0].execute(statements[0])
                for statement in statements[1:]:
                    _told(connection, cursors[1], statement, ())
                    cursors[1].execute(statement)
                if then is not None:
                    statement = then[0]
                    _told(connection, cursors[1], *then)
                    cursors[1].execute(*then)
            fresh = cursors[0].fetchone()[0]
            rows = cursors[1].fetchall() if then is not None else None
        except connection.dialect.loaded_dbapi.Error as error:
            # SQLAlchemy's own handling, as for its own statements: wrapped, and a lost
            # connection invalidated.
            try:
                connection._handle_dbapi_exception(error, statement, then and then[1], None, None)
            except OperationalError as wrapped:
                raise _writer_busy_or(wrapped) from error
        finally:
            for cursor in cursors:
                cursor.close()
        if not fresh:
            raise RuntimeError("locks taken after the transaction wrote: take them first")
        return rows

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        """The stream's events in version order (empty if it does not exist)."""
        with self._engine.connect() as connection:
            return _read_stream(connection, stream_id)

    def read_streams(self, stream_ids: Iterable[str]) -> list[StoredEvent]:
        """The events of several streams, in global order, in one query."""
        with self._engine.connect() as connection:
            return _read_streams(connection, stream_ids)

    def read_feed(self, after: int, limit: int) -> list[StoredEvent]:
        """Up to `limit` events after the event at global position `after` (0: from the
        start), in feed order (the module docstring). Raises `UnknownPosition` if `after` is
        neither 0 nor a stored event's position."""
        if after < 0 or limit < 1:
            raise ValueError(f"need after >= 0 and limit >= 1, got after={after} limit={limit}")
        with self._engine.connect() as connection:
            _note_running_transactions(connection)
            rows = connection.execute(_feed_query(connection, after, limit)).all()
            if not rows and after > 0 and not _is_stored(connection, after):
                raise UnknownPosition(after)
        return [to_stored(row) for row in rows]

    def count_after(self, after: int, cap: int = 100_000) -> int:
        """How many events the feed has after `after` (counted up to `cap`): what a reader at
        `after` has still to read. Raises `UnknownPosition` like `read_feed`."""
        with self._engine.connect() as connection:
            _note_running_transactions(connection)
            if after > 0 and not _is_stored(connection, after):
                raise UnknownPosition(after)
            page = _feed_query(connection, after, cap).with_only_columns(literal(1)).subquery()
            return int(connection.execute(select(func.count()).select_from(page)).scalar_one())

    def read_by_partition_key(
        self,
        partition_key: str,
        after: int = 0,
        types: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Events with this partition key (optionally only these types), in global order."""
        with self._engine.connect() as connection:
            return _read_by_partition_key(connection, partition_key, after, types, limit)

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version: 0 if it has no events."""
        with self._engine.connect() as connection:
            return _stream_version(connection, stream_id)

    def last_position(self) -> int:
        """The highest global position stored: 0 if the store is empty. (Not a feed cursor:
        on PostgreSQL the feed's last event need not have the highest position.)"""
        query = select(func.coalesce(func.max(events.c.global_position), 0))
        with self._engine.connect() as connection:
            return int(connection.execute(query).scalar_one())


def get_relay_position(connection: Connection | Engine, name: str) -> int:
    """The last global position the relay `name` has published: 0 if it never has."""
    query = select(relay_progress.c.position).where(relay_progress.c.name == name)
    if isinstance(connection, Engine):
        with connection.connect() as own:
            position = own.execute(query).scalar_one_or_none()
    else:
        position = connection.execute(query).scalar_one_or_none()
    return 0 if position is None else int(position)


def set_relay_position(connection: Connection, name: str, position: int) -> None:
    """Record that the relay `name` has published everything up to `position`.

    Runs in the caller's transaction (on SQLite use `begin_write` so it starts as a writer).
    """
    now = product_clock.now()
    statement = insert_for(connection, relay_progress).values(
        name=name, position=position, updated_at=now
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[relay_progress.c.name],
            set_={"position": position, "updated_at": now},
        )
    )


def _select_events() -> Select[Any]:
    return select(events)


def _single_writer(
    connection: Connection,
    names: Sequence[str] | None,
    then: tuple[str, Sequence[Any]] | None = None,
) -> list[tuple[Any, ...]] | None:
    """SQLite: `BEGIN IMMEDIATE` already made this transaction the only writer."""
    return None if then is None else _execute(connection, *then)


def _execute(connection: Connection, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one statement of ours run on the driver's cursor: what
    `exec_driver_sql(...).all()` does, without the result machinery around it (a cost per
    append). Errors are SQLAlchemy's, as from `exec_driver_sql` (a lost connection is
    invalidated), and whoever listens for statements on the engine is told of it as of any
    (`_told`: tracing, the statement-count tests)."""
    dbapi_connection: Any = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    try:
        _told(connection, cursor, sql, parameters)
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())
    except connection.dialect.loaded_dbapi.Error as error:
        connection._handle_dbapi_exception(error, sql, parameters, cursor, None)
        raise  # not reached: the line above raises
    finally:
        cursor.close()


def _take_back(connection: Connection, positions: list[int]) -> None:
    """Delete the rows this transaction has just inserted at `positions` (an append refused
    after some of its events were written: only this transaction ever saw them)."""
    connection.execute(events.delete().where(events.c.global_position.in_(positions)))


def _told(connection: Connection, cursor: Any, sql: str, parameters: Any) -> None:
    """Tell the engine's `before_cursor_execute` listeners of a statement sent on the driver's
    cursor, as SQLAlchemy does for its own (no execution context: there is none)."""
    if connection.dispatch.before_cursor_execute:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, parameters, None, False)


# The feed's horizon on PostgreSQL: every event of a transaction below it is visible to this
# statement or will never exist. `pg_snapshot_xmin` would do, but it counts every database of
# the server: a long transaction elsewhere (another service's database) would stall the feed.
# So: the statement snapshot's xmax, lowered to each transaction the snapshot saw running
# except those known to belong to another database (a backend never changes database, so that
# holds whenever it was seen; where pg_stat_activity hides it, it is counted, which is safe:
# prepared transactions, which no backend shows, are all counted, ours and other databases').
# Which database a transaction is in comes from a reading of pg_stat_activity taken before
# the statement's snapshot (`_note_running_transactions`), or a transaction that ends in
# between would count as ours. An autovacuum worker's transaction is left out too, in this
# database as well: it only ever writes statistics (an ANALYZE takes an id), never events.
# A reader whose own transaction has an id is held below it too (the snapshot does not list
# its own transaction, whose uncommitted events it sees): `pg_current_xact_id_if_assigned()`
# is NULL when it has none, and least() ignores NULLs.
_HORIZON = """(SELECT least(pg_snapshot_xmax(snap), pg_current_xact_id_if_assigned(), (
    SELECT min(running) FROM pg_snapshot_xip(snap) AS running
    WHERE NOT EXISTS (
        SELECT 1 FROM pg_stat_activity AS other
        WHERE other.backend_xid = xid(running)
        AND (other.datname IS DISTINCT FROM current_database()
             OR other.backend_type = 'autovacuum worker'))))
  FROM pg_current_snapshot() AS snap)"""


def _note_running_transactions(connection: Connection) -> None:
    """On PostgreSQL, have the server read which transactions run in which database before
    the feed's statement takes its snapshot (see `_HORIZON`); nothing on SQLite.

    The server reads pg_stat_activity once per transaction, at its first use, and answers
    from that reading until the transaction ends. Read inside the feed's own statement, it
    comes AFTER the statement's snapshot: a transaction of another database that the snapshot
    saw running and that ends in between is shown nowhere, so it counts as this database's,
    and the horizon stays below everything committed since it began (seen: a reader right
    after 40 commits, with other databases busy, given none of them). Read first, every
    transaction the snapshot sees running was either seen by this reading (its database
    known) or began after it, so has an id above every transaction that had committed when
    the read began. The feed's statement needs a snapshot of its own for this: the ledger
    reads at READ COMMITTED (PostgreSQL's default); at REPEATABLE READ the first statement's
    snapshot would serve, and the horizon would only be lower (safe, not as fresh)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_RUNNING_TRANSACTIONS)


_RUNNING_TRANSACTIONS = "SELECT 1 FROM pg_stat_activity LIMIT 1"  # any read of it takes the reading


def _feed_query(connection: Connection, after: int, limit: int) -> Select[Any]:
    """The feed's events after the event at position `after`, in feed order.

    SQLite (one writer): by global position. PostgreSQL: by (transaction id, position), and
    only events of transactions older than every one still running, so nothing can commit
    behind a reader (the module docstring)."""
    query = _select_events()
    if connection.dialect.name != "postgresql":
        return (
            query.where(events.c.global_position > after)
            .order_by(events.c.global_position)
            .limit(limit)
        )
    finished = events.c.transaction_id < literal_column(_HORIZON)
    if after > 0:
        mark = (
            select(events.c.transaction_id)
            .where(events.c.global_position == after)
            .scalar_subquery()
        )
        query = query.where(
            tuple_(events.c.transaction_id, events.c.global_position) > tuple_(mark, after)
        )
    return (
        query.where(finished)
        .order_by(events.c.transaction_id, events.c.global_position)
        .limit(limit)
    )


def _is_stored(connection: Connection, position: int) -> bool:
    query = select(events.c.global_position).where(events.c.global_position == position)
    return connection.execute(query).first() is not None


def _read_stream(connection: Connection, stream_id: str) -> list[StoredEvent]:
    query = (
        _select_events().where(events.c.stream_id == stream_id).order_by(events.c.stream_version)
    )
    return [to_stored(row) for row in connection.execute(query)]


def _read_streams(connection: Connection, stream_ids: Iterable[str]) -> list[StoredEvent]:
    ids = list(dict.fromkeys(stream_ids))
    if not ids:
        return []
    query = _select_events().where(events.c.stream_id.in_(ids)).order_by(events.c.global_position)
    return [to_stored(row) for row in connection.execute(query)]


def _read_by_partition_key(
    connection: Connection,
    partition_key: str,
    after: int,
    types: Iterable[str] | None,
    limit: int | None,
) -> list[StoredEvent]:
    query = _select_events().where(
        events.c.partition_key == partition_key, events.c.global_position > after
    )
    if types is not None:
        query = query.where(events.c.type.in_(list(types)))
    query = query.order_by(events.c.global_position)
    if limit is not None:
        query = query.limit(limit)
    return [to_stored(row) for row in connection.execute(query)]


_STREAM_VERSION = select(func.coalesce(func.max(events.c.stream_version), 0)).where(
    events.c.stream_id == bindparam("stream_id")
)


def _stream_version(connection: Connection, stream_id: str) -> int:
    return int(connection.execute(_STREAM_VERSION, {"stream_id": stream_id}).scalar_one())


def to_stored(row: Row[Any]) -> StoredEvent:
    """A row of `events` as a `StoredEvent`."""
    return StoredEvent(
        global_position=row.global_position,
        event_id=uuid.UUID(row.event_id),
        type=row.type,
        schema_version=row.schema_version,
        stream_id=row.stream_id,
        stream_version=row.stream_version,
        partition_key=row.partition_key,
        occurred_at=row.occurred_at,
        actor=row.actor,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        data=row.data,
    )


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: occurred_at must be timezone-aware")
    return value.astimezone(UTC)


def _explain_refusal(
    connection: Connection, stream_id: str, expected_version: int, event_ids: list[uuid.UUID]
) -> EventStoreError:
    """Why the append statement inserted nothing: a stored event id, or another version."""
    stored = connection.execute(
        select(events.c.event_id).where(events.c.event_id.in_([str(i) for i in event_ids]))
    ).scalars()
    duplicates = sorted(uuid.UUID(i) for i in stored)
    if duplicates:
        return DuplicateEvent(duplicates)
    return ConcurrencyConflict(stream_id, expected_version, _stream_version(connection, stream_id))


def _explain_integrity_error(
    error: IntegrityError, stream_id: str, expected_version: int, event_ids: list[uuid.UUID]
) -> EventStoreError | IntegrityError:
    """Which unique constraint a racing insert hit, from the error itself (the transaction may
    be aborted): an event id, else the stream's version (now at least the one we wanted)."""
    text = str(error.orig).lower()
    if "event_id" in text:
        return DuplicateEvent(event_ids)
    if "stream_version" in text:
        return ConcurrencyConflict(stream_id, expected_version, expected_version + 1)
    return error


@dataclasses.dataclass(frozen=True)
class _AppendStatement:
    """One INSERT of a command's events, with its checks: it inserts nothing unless the stream
    is at the expected version and no event id is stored. Positions follow versions (ORDER BY),
    so the feed has a stream's events in version order.

    PostgreSQL: one statement for any number of events, so the driver parses it once and the
    server prepares it once: what the events share as scalars, their ids, types and schema
    versions as arrays (`unnest`), their data as one JSON array (element n is event n's data,
    parsed once). A stored event id is caught by the unique index itself (`ON CONFLICT
    (event_id) DO NOTHING`: the event is skipped, and `append` takes back the others and
    refuses), not by searching for the ids first: the server keeps one generic plan of a
    prepared statement, and one made while the table was small searched it row by row.
    SQLite: a row of placeholders per event (its driver caches each shape)."""

    sql: str
    when: Callable[[datetime], Any]
    arrays: bool

    def parameters(
        self,
        new_events: Sequence[NewEvent],
        texts: Sequence[str],
        shared: tuple[Any, ...],
        expected_version: int,
    ) -> tuple[Any, ...]:
        """The statement's parameters; `shared` is what every event of the append has in
        common: (stream id, partition key, stored instant, actor, correlation, causation)."""
        ids = [str(event.event_id) for event in new_events]
        if self.arrays:
            return (
                *shared,
                expected_version,
                f"[{', '.join(texts)}]",
                ids,
                [event.type for event in new_events],
                [event.schema_version for event in new_events],
            )
        stream, partition_key, when, actor, correlation, causation = shared
        parameters: list[Any] = []
        for version, (event_id, event, text) in enumerate(
            zip(ids, new_events, texts, strict=True), start=expected_version + 1
        ):
            parameters += (
                event_id,
                stream,
                version,
                event.type,
                event.schema_version,
                partition_key,
                when,
                actor,
                correlation,
                causation,
                text,
            )
        return (*parameters, stream, expected_version, *ids)


_COLUMNS = (
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "schema_version",
    "partition_key",
    "occurred_at",
    "actor",
    "correlation_id",
    "causation_id",
    "data",
)

# Placeholders and our own column names only: every value is a bound parameter.
_POSTGRESQL_APPEND = """INSERT INTO events (event_id, stream_id, stream_version, type,
    schema_version, partition_key, occurred_at, actor, correlation_id, causation_id, data)
SELECT new.event_id, one.stream_id, one.expected + new.n::integer, new.type,
    new.schema_version, one.partition_key, one.occurred_at, one.actor, one.correlation_id,
    one.causation_id, one.bodies -> (new.n::integer - 1)
FROM (SELECT %s::varchar AS stream_id, %s::varchar AS partition_key,
        %s::timestamptz AS occurred_at, %s::varchar AS actor, %s::varchar AS correlation_id,
        %s::varchar AS causation_id, %s::integer AS expected, %s::jsonb AS bodies) AS one
CROSS JOIN unnest(%s::varchar[], %s::varchar[], %s::integer[])
    WITH ORDINALITY AS new (event_id, type, schema_version, n)
WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = one.stream_id)
    = one.expected
ORDER BY new.n
ON CONFLICT (event_id) DO NOTHING
RETURNING global_position, stream_version"""


@functools.lru_cache(maxsize=256)
def _append_statement(dialect: Dialect, count: int) -> _AppendStatement:
    # The column type's own conversion (UTC; SQLite's text form), as a bound value would get.
    bind = events.c.occurred_at.type.dialect_impl(dialect).bind_processor(dialect)
    when = bind if bind is not None else (lambda value: value)
    if dialect.name == "postgresql":
        return _AppendStatement(_POSTGRESQL_APPEND, when, arrays=True)
    mark = "%s" if dialect.paramstyle in ("format", "pyformat") else "?"
    row = ", ".join([mark] * len(_COLUMNS))
    values = f"(VALUES {', '.join([f'({row})'] * count)})"
    picked = ", ".join(f"column{n}" for n in range(1, len(_COLUMNS) + 1))
    ids = ", ".join([mark] * count)
    version_is = f"(SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = {mark})"  # noqa: S608  # nosec B608: placeholders only
    new_ids = f"NOT EXISTS (SELECT 1 FROM events WHERE event_id IN ({ids}))"  # noqa: S608  # nosec B608: placeholders only
    sql = " ".join(
        [
            f"INSERT INTO events ({', '.join(_COLUMNS)}) SELECT {picked} FROM {values}",  # noqa: S608  # nosec B608: placeholders only
            f"WHERE {version_is} = {mark} AND {new_ids}",
            "ORDER BY column3 RETURNING global_position, stream_version",
        ]
    )
    return _AppendStatement(sql, when, arrays=False)


def _writer_busy_or(error: OperationalError) -> Exception:
    """`WriterBusy` for a lock wait that timed out, the original error otherwise."""
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    sqlite_code = getattr(original, "sqlite_errorcode", None)
    if sqlstate == "55P03" or (sqlite_code is not None and sqlite_code & 0xFF in (5, 6)):
        return WriterBusy(f"the writer lock was not granted in time: {original}")
    return error
