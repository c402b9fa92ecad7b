"""A claim submission with an Idempotency-Key costs a bounded number of SQL statements, and
its writes (the data key, the event, the views, the saved response) are one transaction. A
count of statements, not a timing (P1 in bench/claim_submissions.py is the timing).

Before: 15 statements on each database (a transaction around the token check on PostgreSQL, a
lookup of the new claim's data key, the payer's whole queue ranked for the new claim's place,
the agreement's nation read again)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from services.ledger.api.app import create_app
from services.ledger.application import stream
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, World, build_world

# The token check; the unit of work's BEGIN (SQLite) or writer lock (PostgreSQL); the key's lock
# (PostgreSQL) and record; the agreement; the data key; the event (the store's version check,
# savepoint and INSERT); the claims view and its queue day count; the claim's place in its
# payer's queue; the response.
MOST_STATEMENTS = {"sqlite": 14, "postgresql": 14}


@dataclass
class Trace:
    statements: list[tuple[int, str]] = field(default_factory=list)
    commits: list[int] = field(default_factory=list)


@contextmanager
def tracing(world: World) -> Iterator[Trace]:
    trace = Trace()

    def executed(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        trace.statements.append((id(connection.connection.dbapi_connection), statement))

    def committed(connection: Any) -> None:
        trace.commits.append(id(connection.connection.dbapi_connection))

    engine = world.ledger.store.engine
    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    try:
        yield trace
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "commit", committed)


@pytest.fixture
def any_world(database_url: str, clock: MovableClock) -> World:
    app: Flask = create_app(LedgerSettings(database_url=database_url), clock=clock, testing=True)
    api = ApiClient(app.test_client())
    return build_world(api, app.extensions["bridges.ledger"], clock.today())


def _submit(world: World, clock: MovableClock, key: str) -> Any:
    a = world.a
    response = world.api.post(
        "/claims",
        a.tokens["vcse_member"],
        world.claim_body(a, clock.today()),
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 201, response.get_json()
    return response


def test_a_submission_with_a_key_is_one_transaction_of_few_statements(
    any_world: World, clock: MovableClock, backend: str
) -> None:
    world = any_world
    _submit(world, clock, "warm-up")  # the first request of a worker compiles its statements
    with tracing(world) as trace:
        response = _submit(world, clock, "counted")

    statements = [s.split()[0].upper() for _, s in trace.statements]
    listing = "\n".join(s.split("\n")[0][:120] for _, s in trace.statements)
    assert len(statements) <= MOST_STATEMENTS[backend], listing
    writes = {c for c, s in trace.statements if s.split()[0].upper() in ("INSERT", "UPDATE")}
    assert len(writes) == 1, listing  # every write on one connection...
    assert trace.commits == list(writes), listing  # ...committed once: one transaction
    # The data key, the event, the claims view, the queue's day count (an upsert), the response.
    assert statements.count("INSERT") == 5, listing

    # And the key works: the same request again is the saved answer, with no new event.
    replay = _submit(world, clock, "counted")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == response.get_json()


def test_a_submission_prices_at_the_agreement_as_it_stands_now(
    world: World, clock: MovableClock
) -> None:
    """The replayed agreement a worker keeps is used only while its stream is at the kept
    version: an amendment committed since (here by another unit of work) is priced in."""
    before = _submit(world, clock, "before").get_json()  # the agreement is kept at version 1
    ledger = world.ledger
    agreement_id = world.a.agreement_id
    with ledger.store.unit_of_work() as uow:
        agreement = ledger.load_agreement(uow, agreement_id)
        assert agreement is not None
        doubled = {"hourly_pence": 5000, "half_day_pence": 16000, "day_pence": 30000}
        amended = agreement.amend(rates=doubled)
        partition = agreement.partnership_id
        ledger._append(uow, None, stream("agreement", agreement_id), 1, [amended], partition)
    after = _submit(world, clock, "after").get_json()
    assert after["amount_pence"] > before["amount_pence"], (before, after)
