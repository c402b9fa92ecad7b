"""Idempotency records on both backends: begin and complete inside the command's own unit of
work; replay, mismatch, a concurrent duplicate, and a crash that leaves the key free at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, text

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
from services.ledger.store.idempotency import Begin, key_lock_id
from services.ledger.store.tables import IDEMPOTENCY_IN_FLIGHT, idempotency_keys
from shared.events.envelope import NewEvent
from shared.sql import make_engine

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


def run_command(
    store: EventStore,
    keys: IdempotencyStore,
    key: str,
    request_hash: str = "h",
    status: int = 201,
    body: object = None,
    scope: str = SCOPE,
) -> Begin:
    """What a command with a key does: begin, and if ours, append and complete, in one unit
    of work. Returns what `begin` said."""
    with store.unit_of_work() as uow:
        outcome = keys.begin(uow, scope, key, request_hash)
        if isinstance(outcome, Started):
            version = uow.stream_version("claim-1")
            uow.append("claim-1", version, [NewEvent("ClaimSubmitted", {})], partition_key="p-1")
            keys.complete(uow, scope, key, request_hash, status, {"Location": "/claims/1"}, body)
    return outcome


def begin(store: EventStore, keys: IdempotencyStore, key: str, request_hash: str = "h") -> Begin:
    """`begin` alone, in a unit of work that writes nothing."""
    with store.unit_of_work() as uow:
        return keys.begin(uow, SCOPE, key, request_hash)


def test_scope_names_principal_method_and_path() -> None:
    assert SCOPE == "person-1 POST /claims"


def test_a_new_key_starts_and_writes_nothing_until_complete(
    keys: IdempotencyStore, event_store: EventStore
) -> None:
    assert begin(event_store, keys, "k1", "hash-a") == Started()
    # Nothing was recorded: the same key may start again, even with another body.
    assert begin(event_store, keys, "k1", "hash-b") == Started()


def test_a_completed_request_is_replayed(
    keys: IdempotencyStore, event_store: EventStore, clock: Clock
) -> None:
    body = {"id": "claim-1", "lines": [1, 2], "note": "café"}
    assert run_command(event_store, keys, "k1", "hash-a", body=body) == Started()
    clock.advance(3600)

    assert begin(event_store, keys, "k1", "hash-a") == Replay(201, {"Location": "/claims/1"}, body)
    assert begin(event_store, keys, "k1", "hash-b") == Mismatch()
    assert run_command(event_store, keys, "k1", "hash-a") == Replay(
        201, {"Location": "/claims/1"}, body
    )
    assert event_store.stream_version("claim-1") == 1


@pytest.mark.parametrize("body", [None, "plain text", ["a", 1], {"nested": {"x": None}}])
def test_any_json_body_round_trips(
    keys: IdempotencyStore, event_store: EventStore, body: object
) -> None:
    run_command(event_store, keys, "k1", status=200, body=body)
    assert begin(event_store, keys, "k1") == Replay(200, {"Location": "/claims/1"}, body)


def test_keys_are_separate_per_scope(keys: IdempotencyStore, event_store: EventStore) -> None:
    other = idempotency_scope("person-2", "POST", "/claims")
    assert run_command(event_store, keys, "k1", "hash-a") == Started()
    assert run_command(event_store, keys, "k1", "hash-b", scope=other) == Started()


def test_the_response_is_only_recorded_if_the_unit_of_work_commits(
    keys: IdempotencyStore, event_store: EventStore
) -> None:
    with pytest.raises(RuntimeError), event_store.unit_of_work() as uow:
        assert keys.begin(uow, SCOPE, "k1", "h") == Started()
        uow.append("claim-1", 0, [NewEvent("ClaimSubmitted", {})], partition_key="p-1")
        keys.complete(uow, SCOPE, "k1", "h", 201, {}, {"id": 1})
        raise RuntimeError("crash before commit")

    # Both rolled back: the key is free at once, no lease to wait for.
    assert begin(event_store, keys, "k1") == Started()
    assert event_store.last_position() == 0


def test_a_process_killed_mid_command_leaves_the_key_free_at_once(
    keys: IdempotencyStore, event_store: EventStore, database_url: str
) -> None:
    """A worker that began a keyed command, appended and recorded the response, then died
    (os._exit, as under kill -9) before commit: the retry runs at once, and only once."""
    child = textwrap.dedent(
        """
        import os, sys
        from services.ledger.store import EventStore, IdempotencyStore
        from shared.events.envelope import NewEvent
        from shared.sql import make_engine

        engine = make_engine(sys.argv[1])
        store, keys = EventStore(engine), IdempotencyStore(engine)
        with store.unit_of_work() as uow:
            assert type(keys.begin(uow, sys.argv[2], "k-crash", "h")).__name__ == "Started"
            uow.append("claim-1", 0, [NewEvent("ClaimSubmitted", {})], partition_key="p-1")
            keys.complete(uow, sys.argv[2], "k-crash", "h", 201, {}, {"crashed": True})
            print("mid-command", flush=True)
            os._exit(137)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child, database_url, SCOPE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 137, done.stderr
    assert done.stdout.strip() == "mid-command"

    retried = IdempotencyStore(event_store.engine)
    assert run_command(event_store, retried, "k-crash", body={"retried": True}) == Started()
    assert run_command(event_store, retried, "k-crash") == Replay(
        201, {"Location": "/claims/1"}, {"retried": True}
    )
    assert event_store.stream_version("claim-1") == 1


@pytest.mark.postgres
def test_a_concurrent_duplicate_is_told_it_is_in_flight_without_waiting(
    postgres_url: str,
) -> None:
    """On PostgreSQL the key's transaction-scoped advisory lock is tried, never waited for."""
    engine = make_engine(postgres_url)
    try:
        keys = IdempotencyStore(engine)
        store = EventStore(engine)
        with engine.connect() as holder, holder.begin():
            # Another transaction holds the key (a duplicate mid-command).
            holder.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": key_lock_id(SCOPE, "k1")}
            )
            assert begin(store, keys, "k1") == InFlight()
        assert run_command(store, keys, "k1") == Started()
    finally:
        engine.dispose()


def test_only_the_first_of_two_completions_stays(
    keys: IdempotencyStore, event_store: EventStore
) -> None:
    """Two executions that both began (only possible if the lock were bypassed): the second
    `complete` is refused and its unit of work rolls back, so one effect stays."""
    run_command(event_store, keys, "k1", body={"first": True})
    with pytest.raises(IdempotencyConflict), event_store.unit_of_work() as uow:
        uow.append("claim-1", 1, [NewEvent("ClaimSubmitted", {})], partition_key="p-1")
        keys.complete(uow, SCOPE, "k1", "h", 201, {}, {"second": True})

    assert event_store.stream_version("claim-1") == 1
    replay = begin(event_store, keys, "k1")
    assert isinstance(replay, Replay) and replay.body == {"first": True}


def test_a_key_left_in_flight_by_the_lease_protocol_is_taken_over(
    keys: IdempotencyStore, event_store: EventStore
) -> None:
    with event_store.engine.begin() as connection:
        connection.execute(
            insert(idempotency_keys).values(
                scope=SCOPE,
                key="k1",
                request_hash="h",
                state=IDEMPOTENCY_IN_FLIGHT,
                created_at=T0,
                locked_until=T0 + timedelta(seconds=30),
            )
        )
    assert begin(event_store, keys, "k1", "other") == Mismatch()
    assert run_command(event_store, keys, "k1", body={"ok": 1}) == Started(taken_over=True)
    assert begin(event_store, keys, "k1") == Replay(201, {"Location": "/claims/1"}, {"ok": 1})


def test_completed_records_can_be_purged(
    keys: IdempotencyStore, event_store: EventStore, clock: Clock
) -> None:
    run_command(event_store, keys, "old")
    clock.advance(86_400)
    run_command(event_store, keys, "new")

    assert keys.purge_completed_before(T0 + timedelta(hours=1)) == 1
    assert begin(event_store, keys, "old") == Started()
    assert isinstance(begin(event_store, keys, "new"), Replay)


def test_concurrent_first_requests_execute_exactly_once(engine: Engine) -> None:
    keys = IdempotencyStore(engine)
    store = EventStore(engine)
    barrier = threading.Barrier(8, timeout=10)

    def attempt(round_: int) -> Begin:
        barrier.wait()
        return run_command(store, keys, f"k{round_}")

    with ThreadPoolExecutor(8) as pool:
        for round_ in range(10):
            results = list(pool.map(attempt, [round_] * 8))
            assert results.count(Started()) == 1, (round_, results)
            assert all(isinstance(r, Replay | InFlight) for r in results if r != Started())
    assert store.stream_version("claim-1") == 10
