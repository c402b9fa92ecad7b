"""The append's own path: its statement on the driver's cursor, and on PostgreSQL the writers'
lock sent with the first append in one round trip (services/ledger/store/event_store.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from services.ledger.store import EventStore, WriterBusy, make_engine
from services.ledger.store.event_store import _execute
from shared.events.envelope import NewEvent
from tests.support.clock import TEST_NOW


def event(n: int) -> NewEvent:
    return NewEvent(type="HoursLogged", data={"n": n})


def _round_trips(trace: str) -> list[str]:
    """The requests a libpq trace shows the client sent and waited on: each simple `Query`,
    and each `Sync` that ends a batch of extended-protocol messages."""
    sent = [line.split("\t") for line in trace.splitlines() if "\tF\t" in line]
    return [
        "\t".join(fields[3:]).strip() for fields in sent if fields[3].strip() in ("Query", "Sync")
    ]


@pytest.mark.postgres
def test_the_first_append_sends_the_writers_lock_and_the_insert_in_one_round_trip(
    postgres_url: str, tmp_path: Path
) -> None:
    """BEGIN (psycopg waits for it), then the lock statements and the INSERT together, then
    COMMIT: three round trips, where the lock in its own request made four."""
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        store = EventStore(engine)
        with store.unit_of_work() as uow:  # connects: the trace sees only the unit of work
            uow.append("warm", 0, [event(0)], partition_key="p")
        raw = engine.raw_connection()
        pgconn = raw.dbapi_connection.pgconn  # type: ignore[union-attr]
        raw.close()
        path = tmp_path / "libpq.trace"
        with path.open("w") as trace:
            pgconn.trace(trace.fileno())
            try:
                with store.unit_of_work() as uow:
                    (stored,) = uow.append("s", 0, [event(1)], partition_key="p")
            finally:
                pgconn.untrace()
        trips = _round_trips(path.read_text())
        assert len(trips) == 3, trips
        assert trips[-1].startswith("Query") and '"COMMIT"' in trips[-1]
        assert store.read_stream("s") == [stored]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_first_append_that_cannot_get_the_writers_lock_writes_nothing(
    postgres_url: str,
) -> None:
    """The INSERT sent with the lock runs only once the lock is granted: refused in time, the
    append is `WriterBusy` and nothing is stored."""
    engine = make_engine(postgres_url)
    try:
        holder, waiter = EventStore(engine), EventStore(engine, lock_timeout_seconds=0.2)
        with holder.unit_of_work() as uow:
            uow.append("held", 0, [event(1)], partition_key="p")
            with pytest.raises(WriterBusy), waiter.unit_of_work() as other:
                other.append("waits", 0, [event(2)], partition_key="p")
        assert waiter.stream_version("waits") == 0
        with waiter.unit_of_work() as uow:  # the connection went back to the pool healthy
            uow.append("waits", 0, [event(3)], partition_key="p")
        assert [e.data for e in waiter.read_stream("waits")] == [{"n": 3}]
    finally:
        engine.dispose()


def test_an_error_on_the_drivers_cursor_is_sqlalchemys_as_from_exec_driver_sql(
    database_url: str,
) -> None:
    """What the store's callers catch (`IntegrityError`, `OperationalError`: WriterBusy) are
    SQLAlchemy's errors: the append's statement runs on the driver's cursor, and its errors
    are wrapped as `exec_driver_sql` would, and the connection stays usable."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            with pytest.raises(DBAPIError) as raised:
                _execute(connection, "SELECT * FROM no_such_table", ())
            assert isinstance(raised.value.orig, connection.dialect.loaded_dbapi.Error)
            connection.rollback()
            assert _execute(connection, "SELECT count(*) FROM events", ()) == [(0,)]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_append_prepared_on_an_empty_table_never_searches_the_log_row_by_row(
    postgres_url: str,
) -> None:
    """The server keeps one generic plan of a prepared statement. Made while the log was
    small, the former search for stored ids (`event_id = ANY($n)`) was a sequential scan of
    `events`, kept as the log grew: every append then read the whole log. The plan of the
    statement, forced generic on an empty table, touches `events` only through indexes."""
    from sqlalchemy import text

    from services.ledger.store.event_store import _POSTGRESQL_APPEND

    numbered = _POSTGRESQL_APPEND
    for number in range(1, numbered.count("%s") + 1):
        numbered = numbered.replace("%s", f"${number}", 1)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SET plan_cache_mode = force_generic_plan"))
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(f"PREPARE bridges_append AS {numbered}")
            # Shared values, then the arrays; any further parameter is an array of ids.
            at = TEST_NOW.isoformat()  # an instant from the test, not the server's clock
            values = f"'s', 'p', '{at}', NULL, NULL, NULL, 0, '[{{}}]', ARRAY['e'], ARRAY['T']"
            values += ", ARRAY[1]" + ", ARRAY['e']" * (numbered.count("$") - 11)
            cursor.execute(f"EXPLAIN EXECUTE bridges_append({values})")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            connection.rollback()
    finally:
        engine.dispose()
    assert "Seq Scan on events" not in plan, plan
    assert "Conflict Arbiter Indexes: uq_events_event_id" in plan, plan
