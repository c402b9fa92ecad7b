"""Concurrent writers and feed readers, on both backends.

- Racing appends to one stream: exactly one wins per version, the rest get a conflict.
- A feed reader polling while writers commit late or interleave never skips a position: what it
  sees, in order, is exactly 1..N.
- A PostgreSQL control shows the hazard is real (positions commit out of order without a lock)
  and that the feed's order does not skip it.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, create_engine, insert, select, text

from services.ledger.store import ConcurrencyConflict, EventStore, WriterBusy, make_engine
from services.ledger.store.event_store import (
    _feed_query,
    get_relay_position,
    set_relay_position,
)
from services.ledger.store.tables import events
from shared.events.envelope import NewEvent
from tests.support.clock import TEST_NOW

WRITERS = 8


def event(n: int) -> NewEvent:
    return NewEvent(type="HoursLogged", data={"n": n})


class FeedReader:
    """Polls `read_feed(after=last_seen)` in a thread and records every position it is given."""

    def __init__(self, store: EventStore, page: int = 5) -> None:
        self._store = store
        self._page = page
        self.seen: list[int] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> FeedReader:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            while True:
                stopping = self._stop.is_set()  # read before polling: the last poll is complete
                self._poll_until_caught_up()
                if stopping:
                    return
                time.sleep(0.002)
        except BaseException as error:  # reported by __exit__ in the test's thread
            self._error = error

    def _poll_until_caught_up(self) -> None:
        while True:
            self.polls += 1
            page = self._store.read_feed(after=self.seen[-1] if self.seen else 0, limit=self._page)
            self.seen.extend(e.global_position for e in page)
            if len(page) < self._page:
                return


def run_all(tasks: list[Callable[[], object]]) -> list[object]:
    with ThreadPoolExecutor(len(tasks)) as pool:
        futures: list[Future[object]] = [pool.submit(task) for task in tasks]
        return [f.result(timeout=120) for f in futures]


def test_racing_appends_to_one_stream_have_exactly_one_winner_per_version(
    backend: str, event_store: EventStore
) -> None:
    rounds = 100 if backend == "sqlite" else 50
    barrier = threading.Barrier(WRITERS, timeout=30)

    def attempt(writer: int) -> str:
        # All decide on the same read made outside the lock, then race to append.
        expected = event_store.stream_version("claim-1")
        barrier.wait()
        try:
            with event_store.unit_of_work() as uow:
                uow.append("claim-1", expected, [event(writer)], partition_key="p-1")
        except ConcurrencyConflict as conflict:
            assert conflict.actual == expected + 1
            return "conflict"
        return "won"

    with ThreadPoolExecutor(WRITERS) as pool:
        for round_ in range(rounds):
            outcomes = list(pool.map(attempt, range(WRITERS)))
            assert sorted(outcomes) == ["conflict"] * (WRITERS - 1) + ["won"], round_

    stream = event_store.read_stream("claim-1")
    assert [e.stream_version for e in stream] == list(range(1, rounds + 1))
    assert event_store.last_position() == rounds


def test_racing_appends_that_read_inside_the_unit_of_work_all_succeed_in_turn(
    event_store: EventStore,
) -> None:
    """Reads inside the unit of work are current: serialised writers never conflict."""
    barrier = threading.Barrier(WRITERS, timeout=30)

    def attempt(writer: int) -> None:
        barrier.wait()
        for _ in range(10):
            with event_store.unit_of_work() as uow:
                version = uow.stream_version("partnership-ledger")
                uow.append("partnership-ledger", version, [event(writer)], partition_key="p-1")

    run_all([lambda w=w: attempt(w) for w in range(WRITERS)])
    versions = [e.stream_version for e in event_store.read_stream("partnership-ledger")]
    assert versions == list(range(1, WRITERS * 10 + 1))


def test_a_late_commit_is_never_skipped_by_a_feed_reader(event_store: EventStore) -> None:
    a_appended = threading.Event()
    order: list[str] = []

    def writer_a() -> int:
        with event_store.unit_of_work() as uow:
            (stored,) = uow.append("claim-a", 0, [event(1)], partition_key="p-1")
            a_appended.set()
            time.sleep(1.5)
        order.append("a committed")
        return stored.global_position

    def writer_b() -> list[int]:
        assert a_appended.wait(timeout=10)
        positions = []
        for n in range(5):
            with event_store.unit_of_work() as uow:
                (stored,) = uow.append("claim-b", n, [event(n)], partition_key="p-2")
            positions.append(stored.global_position)
            order.append("b committed")
        return positions

    with FeedReader(event_store) as reader:
        a_position, b_positions = run_all([writer_a, writer_b])

    assert order[0] == "a committed"
    assert a_position < min(b_positions)  # type: ignore[operator]
    assert reader.seen == list(range(1, 7))
    assert reader.polls > 50  # it was polling during the whole 1.5 s


def test_interleaved_writers_with_a_polling_reader_see_every_position_once_in_order(
    event_store: EventStore,
) -> None:
    appends_each = 50

    def writer(w: int) -> None:
        rng = random.Random(w)
        for n in range(appends_each):
            with event_store.unit_of_work() as uow:
                uow.append(f"claim-{w}", n, [event(n)], partition_key=f"p-{w}")
                time.sleep(rng.uniform(0, 0.004))

    with FeedReader(event_store, page=3) as reader:
        run_all([lambda w=w: writer(w) for w in range(4)])

    total = 4 * appends_each
    assert reader.seen == list(range(1, total + 1))
    feed = event_store.read_feed(after=0, limit=total + 10)
    assert [e.global_position for e in feed] == reader.seen
    for w in range(4):
        versions = [e.stream_version for e in event_store.read_stream(f"claim-{w}")]
        assert versions == list(range(1, appends_each + 1))


def test_a_writer_that_cannot_get_the_lock_in_time_is_told_so(
    backend: str, database_url: str
) -> None:
    engine = make_engine(database_url, sqlite_busy_timeout_ms=200)
    try:
        holder, waiter = EventStore(engine), EventStore(engine, lock_timeout_seconds=0.2)
        with holder.unit_of_work() as uow:
            uow.append("s", 0, [event(1)], partition_key="p")
            started = time.monotonic()
            with pytest.raises(WriterBusy), waiter.unit_of_work():
                pass
            assert time.monotonic() - started < 5
        with waiter.unit_of_work() as uow:  # the lock is free again and the pool is healthy
            uow.append("s", 1, [event(2)], partition_key="p")
        assert holder.stream_version("s") == 2
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_control_without_any_lock_positions_commit_out_of_order_and_the_feed_waits(
    postgres_url: str,
) -> None:
    """Why positions alone cannot be the feed's order on PostgreSQL: two raw transactions (no
    lock at all) commit out of position order, so a reader by position would skip the late
    one. The feed, ordered by transaction id and served only below the oldest transaction
    still running, serves neither until the slow one commits, then both."""
    engine = make_engine(postgres_url)
    store = EventStore(engine)

    def row(stream_id: str) -> dict[str, object]:
        return {
            "event_id": str(uuid.uuid4()),
            "stream_id": stream_id,
            "stream_version": 1,
            "type": "HoursLogged",
            "schema_version": 1,
            "partition_key": "p",
            "occurred_at": TEST_NOW,
            "data": {},
        }

    def by_position(after: int) -> list[int]:
        with engine.connect() as connection:
            query = select(events.c.global_position).where(events.c.global_position > after)
            return list(connection.execute(query.order_by(events.c.global_position)).scalars())

    try:
        with engine.connect() as slow, engine.connect() as fast:
            first = slow.execute(
                insert(events).values(row("a")).returning(events.c.global_position)
            )
            second = fast.execute(
                insert(events).values(row("b")).returning(events.c.global_position)
            )
            low, high = first.scalar_one(), second.scalar_one()
            fast.commit()
            assert by_position(0) == [high]  # a reader by position would move on to `high`
            assert store.read_feed(after=0, limit=10) == []  # the feed waits for `slow`
            slow.commit()
        assert low < high
        assert by_position(high) == []  # ... and never see `low`
        assert [e.global_position for e in store.read_feed(after=0, limit=10)] == [low, high]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_row_lock_wait_that_times_out_inside_a_unit_of_work_is_writer_busy(
    postgres_url: str,
) -> None:
    """`lock_timeout` bounds row-lock waits too (claim_totals, ...): such a timeout, raised by
    a statement and not by `lock`, is the same retryable `WriterBusy`."""
    engine = make_engine(postgres_url)
    try:
        holder, waiter = EventStore(engine), EventStore(engine, lock_timeout_seconds=0.2)
        with holder.unit_of_work() as uow:
            set_relay_position(uow.connection, "row-lock", 1)
        with holder.unit_of_work() as uow:
            uow.lock("claim:a")
            set_relay_position(uow.connection, "row-lock", 2)  # holds the row's lock
            with pytest.raises(WriterBusy), waiter.unit_of_work() as other:
                other.lock("claim:b")  # granted: another claim
                set_relay_position(other.connection, "row-lock", 3)  # waits for the row
        assert get_relay_position(engine, "row-lock") == 2
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_reader_inside_a_transaction_with_an_id_is_not_served_its_own_events(
    postgres_url: str,
) -> None:
    """Its snapshot does not list its own transaction, yet it sees its own uncommitted
    events: served them, it would move past events of older transactions still running."""
    engine = make_engine(postgres_url)
    try:
        store = EventStore(engine)
        with store.unit_of_work() as uow:
            (before,) = uow.append("own-1", 0, [event(1)], partition_key="p")
        with store.unit_of_work() as uow:
            uow.lock("claim:own-2")
            uow.append("own-2", 0, [event(2)], partition_key="p")
            with store.unit_of_work() as later:  # commits: the snapshot's xmax passes ours
                later.lock("claim:own-3")
                later.append("own-3", 0, [event(3)], partition_key="p")
            page = uow.connection.execute(_feed_query(uow.connection, before.global_position, 10))
            assert page.all() == []
        feed = store.read_feed(before.global_position, 10)
        assert [e.stream_id for e in feed] == ["own-2", "own-3"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_transaction_in_another_database_does_not_hold_the_feed_back(
    postgres_url: str, postgres_admin_engine: Engine
) -> None:
    """The server's other databases (another service's) keep their own long transactions: one
    that holds an id older than every event here must not keep them out of the feed."""
    elsewhere = create_engine(postgres_admin_engine.url)  # the maintenance database
    engine = make_engine(postgres_url)
    try:
        store = EventStore(engine)
        with elsewhere.connect() as other:
            other.execute(text("SELECT pg_current_xact_id()"))  # an id, and it stays running
            with store.unit_of_work() as uow:
                uow.lock("claim:here-1")
                uow.append("here-1", 0, [event(1)], partition_key="p")
            assert [e.stream_id for e in store.read_feed(0, 10)] == ["here-1"]
            assert store.count_after(0) == 1
            other.rollback()
    finally:
        engine.dispose()
        elsewhere.dispose()


@pytest.mark.postgres
def test_transactions_of_other_databases_ending_mid_read_never_hide_the_feed(
    postgres_url: str, postgres_admin_engine: Engine
) -> None:
    """Each round: ten transactions of another database hold ids, an event commits here, and
    readers poll the feed while those transactions end one by one. Every read must serve every
    event that had committed before it began. Which database a running transaction is in is
    read from pg_stat_activity; read inside the feed's statement, after its snapshot, one that
    ended in between counted as this database's and held the horizon below the new event (on
    this 2-core machine about one round in six had a short read)."""
    rounds, holders, readers = 40, 10, 3
    elsewhere = create_engine(postgres_admin_engine.url, pool_size=holders)
    engine = make_engine(postgres_url, pool_size=readers + 1)
    short_reads: list[tuple[int, int, int]] = []
    try:
        store = EventStore(engine)
        for round_ in range(1, rounds + 1):
            pace = random.Random(round_)
            others = [elsewhere.connect() for _ in range(holders)]
            for other in others:
                other.execute(text("SELECT pg_current_xact_id()"))
            with store.unit_of_work() as uow:
                uow.lock(f"claim:round-{round_}")
                uow.append(f"round-{round_}", 0, [event(round_)], partition_key="p")
            stop = threading.Event()

            def read(round_: int = round_, stop: threading.Event = stop) -> None:
                while not stop.is_set():
                    served = len(store.read_feed(0, rounds + 1))
                    counted = store.count_after(0)
                    if served != round_ or counted != round_:
                        short_reads.append((round_, served, counted))

            threads = [threading.Thread(target=read) for _ in range(readers)]
            for thread in threads:
                thread.start()
            for other in others:
                time.sleep(pace.uniform(0.0005, 0.003))
                other.commit()
                other.close()
            time.sleep(0.005)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert short_reads == [], "(round, served, counted) with events missing"
    finally:
        engine.dispose()
        elsewhere.dispose()
