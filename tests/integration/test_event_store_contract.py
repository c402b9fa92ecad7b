"""The event store's contract, proven identically on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from services.ledger.store import (
    ConcurrencyConflict,
    DuplicateEvent,
    EventStore,
    begin_write,
    get_relay_position,
    set_relay_position,
)
from services.ledger.store.event_store import UnknownPosition
from services.ledger.store.tables import events
from shared import clock as product_clock
from shared.events.envelope import NewEvent, StoredEvent
from tests.support.clock import TEST_NOW

BST = timezone(timedelta(hours=1), "BST")


def submitted(n: int = 1, **data: object) -> NewEvent:
    return NewEvent(type="ClaimSubmitted", data={"n": n, **data})


def append(
    store: EventStore, stream_id: str, expected: int, *new: NewEvent, key: str = "p-1"
) -> list[StoredEvent]:
    with store.unit_of_work() as uow:
        return uow.append(stream_id, expected, list(new), partition_key=key)


def test_append_and_read_back_preserves_the_envelope(event_store: EventStore) -> None:
    data = {
        "claim_id": "c-1",
        "amount_pence": 123_456_789_012,
        "hours": "7.25",
        "lines": [{"day": "2025-03-31", "minutes": 90}, {"note": "café ✓ — 💷"}],
        "approved": True,
        "rate": 1.5,
        "nothing": None,
        "empty": {},
    }
    first = NewEvent(type="ClaimSubmitted", data=data, schema_version=2)
    second = NewEvent(type="ClaimApproved", data={"by": "p-9"})
    at = datetime(2025, 3, 31, 9, 30, 15, 123456, tzinfo=BST)

    with event_store.unit_of_work() as uow:
        appended = uow.append(
            "claim-c-1",
            0,
            [first, second],
            partition_key="partnership-7",
            actor="person-3",
            correlation_id="corr-1",
            causation_id="cmd-1",
            occurred_at=at,
        )

    read = event_store.read_stream("claim-c-1")
    assert read == appended
    one, two = read
    assert one.event_id == first.event_id and two.event_id == second.event_id
    assert (one.type, one.schema_version, one.data) == ("ClaimSubmitted", 2, data)
    assert (two.type, two.schema_version, two.data) == ("ClaimApproved", 1, {"by": "p-9"})
    assert [e.stream_version for e in read] == [1, 2]
    assert one.global_position < two.global_position
    for event in read:
        assert event.stream_id == "claim-c-1"
        assert event.partition_key == "partnership-7"
        assert (event.actor, event.correlation_id, event.causation_id) == (
            "person-3",
            "corr-1",
            "cmd-1",
        )
        assert event.occurred_at == at
        assert event.occurred_at.utcoffset() == timedelta(0)
        assert event.occurred_at.hour == 8  # 09:30 BST is 08:30 UTC


def test_optional_envelope_fields_default_to_none_and_now(event_store: EventStore) -> None:
    # About the product's default clock (shared.clock), which stamps an event given no time.
    before = product_clock.now()
    append(event_store, "s", 0, submitted())
    after = product_clock.now()

    (event,) = event_store.read_stream("s")
    assert (event.actor, event.correlation_id, event.causation_id) == (None, None, None)
    assert event.occurred_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= event.occurred_at <= after + timedelta(seconds=1)


def test_a_naive_occurred_at_is_refused(event_store: EventStore) -> None:
    with pytest.raises(ValueError, match="naive"), event_store.unit_of_work() as uow:
        uow.append("s", 0, [submitted()], partition_key="p", occurred_at=datetime(2025, 1, 1))
    assert event_store.last_position() == 0


def test_stream_versions_are_contiguous_from_one(event_store: EventStore) -> None:
    append(event_store, "s", 0, submitted(1))
    append(event_store, "s", 1, submitted(2), submitted(3))
    append(event_store, "other", 0, submitted(9))
    append(event_store, "s", 3, submitted(4))

    assert [e.stream_version for e in event_store.read_stream("s")] == [1, 2, 3, 4]
    assert [e.data["n"] for e in event_store.read_stream("s")] == [1, 2, 3, 4]
    assert event_store.stream_version("s") == 4
    assert event_store.stream_version("other") == 1
    assert event_store.stream_version("missing") == 0
    assert event_store.read_stream("missing") == []


@pytest.mark.parametrize("stale", [0, 1, 3, 7])
def test_a_wrong_expected_version_is_a_conflict_and_writes_nothing(
    event_store: EventStore, stale: int
) -> None:
    append(event_store, "s", 0, submitted(1), submitted(2))

    with pytest.raises(ConcurrencyConflict) as raised, event_store.unit_of_work() as uow:
        uow.append("s", stale, [submitted(3)], partition_key="p-1")

    assert (raised.value.stream_id, raised.value.expected, raised.value.actual) == ("s", stale, 2)
    assert event_store.stream_version("s") == 2
    assert event_store.last_position() == 2


def test_a_negative_expected_version_is_a_programming_error(event_store: EventStore) -> None:
    with pytest.raises(ValueError), event_store.unit_of_work() as uow:
        uow.append("s", -1, [submitted()], partition_key="p")


def test_an_empty_append_still_checks_the_version(event_store: EventStore) -> None:
    append(event_store, "s", 0, submitted())
    with event_store.unit_of_work() as uow:
        assert uow.append("s", 1, [], partition_key="p-1") == []
    with pytest.raises(ConcurrencyConflict), event_store.unit_of_work() as uow:
        uow.append("s", 0, [], partition_key="p-1")


def test_an_event_id_is_stored_once(event_store: EventStore) -> None:
    event = submitted()
    append(event_store, "s", 0, event)

    with pytest.raises(DuplicateEvent) as raised, event_store.unit_of_work() as uow:
        uow.append("other", 0, [submitted(2), event], partition_key="p-1")
    assert raised.value.event_ids == (event.event_id,)
    assert event_store.read_stream("other") == []

    with pytest.raises(DuplicateEvent), event_store.unit_of_work() as uow:
        twice = submitted(3)
        uow.append("third", 0, [twice, twice], partition_key="p-1")
    assert event_store.last_position() == 1


def test_the_unit_of_work_stays_usable_after_a_refused_append(event_store: EventStore) -> None:
    event = submitted()
    append(event_store, "s", 0, event)

    with event_store.unit_of_work() as uow:
        with pytest.raises(DuplicateEvent):
            uow.append("other", 0, [event], partition_key="p-1")
        with pytest.raises(ConcurrencyConflict):
            uow.append("s", 0, [submitted(2)], partition_key="p-1")
        uow.append("s", 1, [submitted(2)], partition_key="p-1")

    assert [e.stream_version for e in event_store.read_stream("s")] == [1, 2]
    assert event_store.read_stream("other") == []


def test_an_append_refused_part_way_leaves_nothing_in_a_unit_of_work_that_commits(
    event_store: EventStore,
) -> None:
    """One event of two already stored: the append is refused whole, in a unit of work that goes
    on and commits (PostgreSQL's insert skips the stored id and the store takes back the rest)."""
    event = submitted()
    append(event_store, "s", 0, event)
    with event_store.unit_of_work() as uow:
        with pytest.raises(DuplicateEvent) as raised:
            uow.append("other", 0, [submitted(2), event, submitted(3)], partition_key="p-1")
        uow.append("s", 1, [submitted(4)], partition_key="p-1")
    assert raised.value.event_ids == (event.event_id,)
    assert event_store.read_stream("other") == []
    assert [e.data["n"] for e in event_store.read_stream("s")] == [1, 4]


def test_the_unique_constraints_back_the_version_check(engine: Engine) -> None:
    row = {
        "event_id": str(uuid.uuid4()),
        "stream_id": "s",
        "stream_version": 1,
        "type": "ClaimSubmitted",
        "schema_version": 1,
        "partition_key": "p",
        "occurred_at": TEST_NOW,
        "data": {},
    }
    with begin_write(engine) as connection:
        connection.execute(insert(events).values(**row))
    with pytest.raises(IntegrityError), begin_write(engine) as connection:
        connection.execute(insert(events).values(**{**row, "event_id": str(uuid.uuid4())}))
    with pytest.raises(IntegrityError), begin_write(engine) as connection:
        connection.execute(insert(events).values(**{**row, "stream_version": 2}))


def test_a_version_clash_found_by_the_constraint_is_a_conflict(
    event_store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a writer ever bypassed the lock, the insert itself would still refuse the clash."""
    from services.ledger.store import event_store as module

    append(event_store, "s", 0, submitted(1))
    real = module._stream_version
    answers = iter([0])  # the version check is told the stream is new; the re-read is not
    monkeypatch.setattr(module, "_stream_version", lambda c, s: next(answers, None) or real(c, s))

    with pytest.raises(ConcurrencyConflict) as raised, event_store.unit_of_work() as uow:
        uow.append("s", 0, [submitted(2)], partition_key="p-1")
    assert (raised.value.expected, raised.value.actual) == (0, 1)
    assert len(event_store.read_stream("s")) == 1


def test_an_exception_in_the_unit_of_work_writes_nothing(
    event_store: EventStore, engine: Engine
) -> None:
    append(event_store, "s", 0, submitted(1))

    with pytest.raises(RuntimeError, match="decided otherwise"), event_store.unit_of_work() as uow:
        uow.append("s", 1, [submitted(2)], partition_key="p-1")
        uow.append("t", 0, [submitted(3)], partition_key="p-1")
        set_relay_position(uow.connection, "relay", 99)
        raise RuntimeError("decided otherwise")

    assert event_store.stream_version("s") == 1
    assert event_store.read_stream("t") == []
    assert event_store.last_position() == 1
    assert get_relay_position(engine, "relay") == 0


def test_a_unit_of_work_sees_its_own_appends_and_readers_do_not_until_commit(
    event_store: EventStore,
) -> None:
    with event_store.unit_of_work() as uow:
        uow.append("s", 0, [submitted(1)], partition_key="p-1")
        assert uow.stream_version("s") == 1
        assert [e.data["n"] for e in uow.read_stream("s")] == [1]
        # Readers take no lock and are not blocked: they just do not see uncommitted events.
        assert event_store.read_stream("s") == []
        assert event_store.read_feed(after=0, limit=10) == []
    assert event_store.stream_version("s") == 1


def test_a_finished_unit_of_work_cannot_be_used(event_store: EventStore) -> None:
    with event_store.unit_of_work() as uow:
        pass
    with pytest.raises(RuntimeError, match="ended"):
        uow.append("s", 0, [submitted()], partition_key="p")


def test_the_feed_is_ordered_and_pages_with_after_and_limit(event_store: EventStore) -> None:
    expected_ids = []
    for i in range(25):
        new = submitted(i)
        expected_ids.append(new.event_id)
        stream = f"claim-{i % 4}"
        append(event_store, stream, event_store.stream_version(stream), new)

    pages, after = [], 0
    while page := event_store.read_feed(after=after, limit=7):
        assert len(page) <= 7
        pages.append(page)
        after = page[-1].global_position
    feed = [event for page in pages for event in page]

    assert [len(p) for p in pages] == [7, 7, 7, 4]
    assert [e.event_id for e in feed] == expected_ids
    positions = [e.global_position for e in feed]
    assert positions == sorted(set(positions))
    assert event_store.last_position() == positions[-1]
    assert event_store.read_feed(after=positions[-1], limit=10) == []
    assert event_store.read_feed(after=positions[9], limit=2) == feed[10:12]
    assert event_store.read_feed(after=0, limit=1000) == feed


def test_read_feed_refuses_nonsense_paging(event_store: EventStore) -> None:
    with pytest.raises(ValueError):
        event_store.read_feed(after=0, limit=0)
    with pytest.raises(ValueError):
        event_store.read_feed(after=-1, limit=5)


def test_last_position_of_an_empty_store_is_zero(event_store: EventStore) -> None:
    assert event_store.last_position() == 0
    assert event_store.read_feed(after=0, limit=10) == []


def test_read_streams_reads_several_streams_in_global_order(event_store: EventStore) -> None:
    append(event_store, "a", 0, submitted(1))
    append(event_store, "b", 0, submitted(2))
    append(event_store, "c", 0, submitted(3))
    append(event_store, "a", 1, submitted(4))

    read = event_store.read_streams(["a", "b", "missing", "a"])
    assert [(e.stream_id, e.data["n"]) for e in read] == [("a", 1), ("b", 2), ("a", 4)]
    assert [e.global_position for e in read] == sorted(e.global_position for e in read)
    assert event_store.read_streams([]) == []
    with event_store.unit_of_work() as uow:
        assert uow.read_streams(iter(["c", "b"])) == event_store.read_streams(["b", "c"])


def test_read_by_partition_key_filters_by_key_type_and_position(event_store: EventStore) -> None:
    with event_store.unit_of_work() as uow:
        uow.append("claim-1", 0, [submitted(1)], partition_key="partnership-1")
        uow.append("claim-2", 0, [submitted(2)], partition_key="partnership-2")
        approved = NewEvent(type="ClaimApproved", data={"n": 3})
        uow.append("claim-1", 1, [approved], partition_key="partnership-1")
        uow.append("claim-3", 0, [submitted(4)], partition_key="partnership-1")

    p1 = event_store.read_by_partition_key("partnership-1")
    assert [e.data["n"] for e in p1] == [1, 3, 4]
    assert all(e.partition_key == "partnership-1" for e in p1)
    after_first = event_store.read_by_partition_key("partnership-1", after=p1[0].global_position)
    assert [e.data["n"] for e in after_first] == [3, 4]
    only_submitted = event_store.read_by_partition_key("partnership-1", types=["ClaimSubmitted"])
    assert [e.data["n"] for e in only_submitted] == [1, 4]
    assert event_store.read_by_partition_key("partnership-1", types=[]) == []
    assert [e.data["n"] for e in event_store.read_by_partition_key("partnership-1", limit=2)] == [
        1,
        3,
    ]
    assert event_store.read_by_partition_key("nobody") == []
    with event_store.unit_of_work() as uow:
        assert uow.read_by_partition_key("partnership-1") == p1


def test_relay_progress_starts_at_zero_and_records_positions(engine: Engine) -> None:
    assert get_relay_position(engine, "kafka") == 0
    with begin_write(engine) as connection:
        set_relay_position(connection, "kafka", 5)
    with begin_write(engine) as connection:
        assert get_relay_position(connection, "kafka") == 5
        set_relay_position(connection, "kafka", 12)
        set_relay_position(connection, "other", 1)
    assert get_relay_position(engine, "kafka") == 12
    assert get_relay_position(engine, "other") == 1


def test_stored_rows_hold_utc(engine: Engine, event_store: EventStore) -> None:
    at = datetime(2025, 6, 1, 12, 0, tzinfo=BST)
    with event_store.unit_of_work() as uow:
        uow.append("s", 0, [submitted()], partition_key="p", occurred_at=at)
    with engine.connect() as connection:
        stored = connection.execute(select(events.c.occurred_at)).scalar_one()
    assert stored == datetime(2025, 6, 1, 11, 0, tzinfo=UTC)
    assert stored.tzinfo == UTC


def test_a_feed_cursor_that_is_no_stored_position_is_refused(event_store: EventStore) -> None:
    (first, second) = append(event_store, "s", 0, submitted(1), submitted(2))
    assert event_store.read_feed(after=first.global_position, limit=5) == [second]
    assert event_store.read_feed(after=second.global_position, limit=5) == []
    with pytest.raises(UnknownPosition):
        event_store.read_feed(after=second.global_position + 1000, limit=5)
    assert event_store.count_after(0) == 2 and event_store.count_after(first.global_position) == 1
    with pytest.raises(UnknownPosition):
        event_store.count_after(second.global_position + 1000)


def test_locks_come_first_and_once(backend: str, event_store: EventStore) -> None:
    with event_store.unit_of_work() as uow:
        uow.lock("claim:1", "claim:2")
        with pytest.raises(RuntimeError, match="once"):
            uow.lock("claim:3")
        uow.append("claim-1", 0, [submitted(1)], partition_key="p-1")
    with event_store.unit_of_work() as uow:
        uow.append("claim-1", 1, [submitted(2)], partition_key="p-1")  # the exclusive lock
        uow.lock("claim:1")  # no-op: nothing is narrower than the exclusive lock already held
    assert event_store.stream_version("claim-1") == 2


@pytest.mark.postgres
def test_postgresql_refuses_locks_taken_after_the_transaction_wrote(postgres_url: str) -> None:
    """A transaction id drawn before the locks could order the events before an earlier
    holder's: the lock API checks that none was drawn yet."""
    from services.ledger.store import make_engine

    engine = make_engine(postgres_url)
    try:
        store = EventStore(engine)
        with pytest.raises(RuntimeError, match="first"), store.unit_of_work() as uow:
            set_relay_position(uow.connection_before_locks, "relay", 1)  # a write: an xid
            uow.lock("claim:1")
    finally:
        engine.dispose()
