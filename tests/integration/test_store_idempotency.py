"""Idempotency records on both backends: begin, complete, replay, mismatch, in flight, takeover."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from services.ledger.store import (
    EventStore,
    IdempotencyConflict,
    IdempotencyStore,
    InFlight,
    Mismatch,
    Replay,
    Started,
    idempotency_scope,
)
from shared.events.envelope import NewEvent

SCOPE = idempotency_scope("person-1", "post", "/claims")
T0 = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(engine: Engine, clock: Clock) -> IdempotencyStore:
    return IdempotencyStore(engine, clock=clock)


def submit_claim(
    store: EventStore, keys: IdempotencyStore, key: str, status: int = 201, body: object = None
) -> None:
    with store.unit_of_work() as uow:
        version = uow.stream_version("claim-1")
        uow.append("claim-1", version, [NewEvent("ClaimSubmitted", {})], partition_key="p-1")
        keys.complete(uow, SCOPE, key, status, {"Location": "/claims/1"}, body)


def test_scope_names_principal_method_and_path() -> None:
    assert SCOPE == "person-1 POST /claims"


def test_a_new_key_starts_and_a_concurrent_retry_is_told_it_is_in_flight(
    keys: IdempotencyStore,
) -> None:
    assert keys.begin(SCOPE, "k1", "hash-a") == Started()
    assert keys.begin(SCOPE, "k1", "hash-a") == InFlight(locked_until=T0 + timedelta(seconds=30))
    assert keys.begin(SCOPE, "k1", "hash-b") == Mismatch()


def test_a_completed_request_is_replayed(
    keys: IdempotencyStore, event_store: EventStore, clock: Clock
) -> None:
    body = {"id": "claim-1", "lines": [1, 2], "note": "café"}
    assert keys.begin(SCOPE, "k1", "hash-a") == Started()
    submit_claim(event_store, keys, "k1", body=body)
    clock.advance(3600)

    assert keys.begin(SCOPE, "k1", "hash-a") == Replay(201, {"Location": "/claims/1"}, body)
    assert keys.begin(SCOPE, "k1", "hash-b") == Mismatch()
    assert event_store.stream_version("claim-1") == 1


@pytest.mark.parametrize("body", [None, "plain text", ["a", 1], {"nested": {"x": None}}])
def test_any_json_body_round_trips(
    keys: IdempotencyStore, event_store: EventStore, body: object
) -> None:
    keys.begin(SCOPE, "k1", "h")
    submit_claim(event_store, keys, "k1", status=200, body=body)
    assert keys.begin(SCOPE, "k1", "h") == Replay(200, {"Location": "/claims/1"}, body)


def test_keys_are_separate_per_scope(keys: IdempotencyStore) -> None:
    other = idempotency_scope("person-2", "POST", "/claims")
    assert keys.begin(SCOPE, "k1", "hash-a") == Started()
    assert keys.begin(other, "k1", "hash-b") == Started()


def test_the_response_is_only_recorded_if_the_unit_of_work_commits(
    keys: IdempotencyStore, event_store: EventStore
) -> None:
    keys.begin(SCOPE, "k1", "h")
    with pytest.raises(RuntimeError), event_store.unit_of_work() as uow:
        uow.append("claim-1", 0, [NewEvent("ClaimSubmitted", {})], partition_key="p-1")
        keys.complete(uow, SCOPE, "k1", 201, {}, {"id": 1})
        raise RuntimeError("crash before commit")

    assert isinstance(keys.begin(SCOPE, "k1", "h"), InFlight)
    assert event_store.last_position() == 0


def test_an_expired_lease_may_be_taken_over(keys: IdempotencyStore, clock: Clock) -> None:
    assert keys.begin(SCOPE, "k1", "h", lease_seconds=10) == Started()
    clock.advance(9)
    assert keys.begin(SCOPE, "k1", "h", lease_seconds=10) == InFlight(T0 + timedelta(seconds=10))
    clock.advance(2)
    assert keys.begin(SCOPE, "k1", "h", lease_seconds=10) == Started(taken_over=True)
    assert keys.begin(SCOPE, "k1", "h") == InFlight(clock.now + timedelta(seconds=10))
    assert keys.begin(SCOPE, "k1", "other") == Mismatch()


def test_only_the_first_of_two_overlapping_executions_completes(
    keys: IdempotencyStore, event_store: EventStore, clock: Clock
) -> None:
    """A slow first request and the retry that took over its lease both run; one effect stays."""
    keys.begin(SCOPE, "k1", "h", lease_seconds=5)
    clock.advance(6)
    assert keys.begin(SCOPE, "k1", "h") == Started(taken_over=True)

    submit_claim(event_store, keys, "k1", body={"first": True})
    with pytest.raises(IdempotencyConflict):
        submit_claim(event_store, keys, "k1", body={"second": True})

    assert event_store.stream_version("claim-1") == 1
    replay = keys.begin(SCOPE, "k1", "h")
    assert isinstance(replay, Replay) and replay.body == {"first": True}


def test_abandon_frees_an_in_flight_key_but_not_a_completed_one(
    keys: IdempotencyStore, event_store: EventStore
) -> None:
    keys.begin(SCOPE, "k1", "h")
    assert keys.abandon(SCOPE, "k1") is True
    assert keys.abandon(SCOPE, "k1") is False
    assert keys.begin(SCOPE, "k1", "different-now") == Started()

    submit_claim(event_store, keys, "k1")
    assert keys.abandon(SCOPE, "k1") is False
    assert isinstance(keys.begin(SCOPE, "k1", "different-now"), Replay)


def test_completing_a_key_that_is_not_in_flight_is_refused(
    keys: IdempotencyStore, event_store: EventStore
) -> None:
    with pytest.raises(IdempotencyConflict):
        submit_claim(event_store, keys, "never-begun")
    assert event_store.last_position() == 0


def test_completed_records_can_be_purged(
    keys: IdempotencyStore, event_store: EventStore, clock: Clock
) -> None:
    keys.begin(SCOPE, "old", "h")
    submit_claim(event_store, keys, "old")
    clock.advance(86_400)
    keys.begin(SCOPE, "new", "h")
    submit_claim(event_store, keys, "new")
    keys.begin(SCOPE, "running", "h")

    assert keys.purge_completed_before(T0 + timedelta(hours=1)) == 1
    assert keys.begin(SCOPE, "old", "h") == Started()
    assert isinstance(keys.begin(SCOPE, "new", "h"), Replay)
    assert isinstance(keys.begin(SCOPE, "running", "h"), InFlight)


def test_concurrent_first_requests_start_exactly_once(engine: Engine) -> None:
    keys = IdempotencyStore(engine)
    barrier = threading.Barrier(8, timeout=10)

    def attempt(_: int) -> object:
        barrier.wait()
        return keys.begin(SCOPE, "k1", "h")

    with ThreadPoolExecutor(8) as pool:
        for round_ in range(10):
            results = list(pool.map(attempt, range(8)))
            assert results.count(Started()) == 1, (round_, results)
            assert all(isinstance(r, InFlight) for r in results if r != Started())
            keys.abandon(SCOPE, "k1")
