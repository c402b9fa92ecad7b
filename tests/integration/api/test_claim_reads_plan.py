"""Reading a claim (its events and its payments') walks the log's stream index on PostgreSQL,
never the whole log: with 10 k claims in the store the former query (one WHERE with an OR over
a subquery) scanned every event for each claim read, so GET /claims/{id} and each page of
GET /claims grew with the store. The plan of the query the ledger sends is checked with
sequential scans switched off, so the check does not depend on the size of the test's tables
(a scan of the whole log then shows as an index scan without a condition on the stream)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event, text

from services.ledger.api.app import create_app
from shared.settings import LedgerSettings
from tests.integration.api.conftest import TODAY
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, build_world


def test_a_claim_is_read_by_its_streams_not_by_scanning_the_log(postgres_url: str) -> None:
    clock = MovableClock(TODAY)
    app: Flask = create_app(LedgerSettings(database_url=postgres_url), clock=clock, testing=True)
    ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, TODAY)
    a = world.a
    claim = world.act(a, world.submit(a, TODAY), "approve", "approver")
    world.pay(a, claim, 1000, TODAY)

    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM events" in statement:
            sent.append((statement, parameters))

    event.listen(ledger.store.engine, "before_cursor_execute", keep)
    try:
        with ledger.reading() as uow:
            loaded = ledger._load_claim(uow, claim["id"])
    finally:
        event.remove(ledger.store.engine, "before_cursor_execute", keep)
    assert loaded is not None and loaded.paid_pence == 1000
    (statement, parameters), *_ = sent

    with ledger.store.engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = [line for line in plan.splitlines() if " on events" in line]
    assert scans, plan
    lines = plan.splitlines()
    for number, line in enumerate(lines):
        if " on events" in line:
            # An index scan's own Index Cond, or a bitmap heap scan's Recheck Cond over the
            # bitmap index scan beneath it: either way a walk of the stream index.
            condition = lines[number + 1]
            assert "Index Cond" in condition or "Recheck Cond" in condition, plan
            assert "stream_id" in condition, plan
