"""Migration 0012: `events` without AUTOINCREMENT on SQLite and without `ix_events_type`, and
what that must keep: positions never reused, and the type-filtered reads on their indexes."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import Connection, Select, select

from services.ledger.store import EventStore, make_engine
from services.ledger.store.event_store import _select_events
from services.ledger.store.migrate import MIGRATIONS_DIR
from services.ledger.store.tables import events
from shared import migrations
from shared.events.envelope import NewEvent


def event(n: int, kind: str = "ClaimSubmitted") -> NewEvent:
    return NewEvent(type=kind, data={"n": n})


def _append(url: str, stream: str, version: int, count: int) -> list[int]:
    engine = make_engine(url)
    try:
        with EventStore(engine).unit_of_work() as uow:
            stored = uow.append(
                stream, version, [event(n) for n in range(count)], partition_key="p"
            )
        return [e.global_position for e in stored]
    finally:
        engine.dispose()


def _sqlite(url: str) -> sqlite3.Connection:
    return sqlite3.connect(url.removeprefix("sqlite:///"))


def test_sqlite_events_lose_autoincrement_and_keep_their_positions(empty_sqlite_url: str) -> None:
    migrations.upgrade(MIGRATIONS_DIR, empty_sqlite_url, "0011")
    assert _append(empty_sqlite_url, "a", 0, 3) == [1, 2, 3]
    migrations.upgrade(MIGRATIONS_DIR, empty_sqlite_url)
    with _sqlite(empty_sqlite_url) as connection:
        (ddl,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'events'"
        ).fetchone()
        indexes = {
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
            )
        }
        sequence = connection.execute(
            "SELECT count(*) FROM sqlite_sequence WHERE name = 'events'"
        ).fetchone()
    assert "AUTOINCREMENT" not in ddl.upper()
    assert sequence == (0,)  # no page of it written per commit any more
    assert "ix_events_type" not in indexes
    assert {"ix_events_partition_key_global_position", "ix_events_feed"} <= indexes
    assert _append(empty_sqlite_url, "a", 3, 2) == [4, 5]  # after the highest stored


def test_sqlite_refuses_to_drop_autoincrement_once_given_out_positions_are_missing(
    empty_sqlite_url: str,
) -> None:
    """Rows deleted by hand from the top of the log: without AUTOINCREMENT their positions,
    which readers may hold as cursors, would be given out again. The upgrade says so."""
    migrations.upgrade(MIGRATIONS_DIR, empty_sqlite_url, "0011")
    _append(empty_sqlite_url, "a", 0, 3)
    with _sqlite(empty_sqlite_url) as connection:
        connection.execute("DELETE FROM events WHERE global_position = 3")
    with pytest.raises(RuntimeError, match="could be reused"):
        migrations.upgrade(MIGRATIONS_DIR, empty_sqlite_url)
    assert migrations.current_revision(empty_sqlite_url) == "0011"


def test_positions_follow_the_highest_ever_stored_with_no_sequence_table(
    database_url: str,
) -> None:
    """Nothing in the store deletes events, so the highest stored position only grows: every
    append gets positions above every position ever given out, rolled-back appends included
    (their positions were never visible)."""
    engine = make_engine(database_url)
    try:
        store = EventStore(engine)
        given: list[int] = []
        for n in range(3):
            with store.unit_of_work() as uow:
                given += [
                    e.global_position for e in uow.append(f"s{n}", 0, [event(n)], partition_key="p")
                ]
            with pytest.raises(ZeroDivisionError), store.unit_of_work() as uow:
                uow.append(f"r{n}", 0, [event(n)], partition_key="p")
                1 / 0  # noqa: B018  rolled back
        assert given == sorted(given) and len(set(given)) == 3
        assert [e.global_position for e in store.read_feed(0, 10)] == given
        assert not hasattr(store, "delete")
    finally:
        engine.dispose()


def _plan(connection: Connection, query: Select[Any]) -> str:
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
    rows = connection.exec_driver_sql(prefix + str(compiled)).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_type_filtered_reads_of_a_partition_use_the_partitions_index(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET enable_seqscan = off")
            query = (
                _select_events()
                .where(
                    events.c.partition_key == "p",
                    events.c.global_position > 0,
                    events.c.type.in_(["ClaimSubmitted", "ClaimAmended"]),
                )
                .order_by(events.c.global_position)
            )
            plan = _plan(connection, query)
        assert "ix_events_partition_key_global_position" in plan, plan
        assert "TEMP B-TREE" not in plan.upper() and "Sort" not in plan, plan
    finally:
        engine.dispose()


def test_the_claim_event_scan_reads_the_log_in_position_order_without_a_sort(
    sqlite_url: str,
) -> None:
    """people.py reads every claim event in position order: the table in its own order."""
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            query = (
                select(events)
                .where(events.c.type.in_(["ClaimSubmitted", "ClaimAmended"]))
                .order_by(events.c.global_position)
            )
            plan = _plan(connection, query)
        assert "TEMP B-TREE" not in plan.upper(), plan
    finally:
        engine.dispose()
