"""A claim's place in its payer's approval queue (what every submission and every page of
claims answers) costs the same whatever the length of the queue: the work the database does
for the place of the claim just made is the same with 40 claims ahead of it as with 400.

Measured in what each database reports, not in seconds: SQLite's virtual-machine steps (a
progress handler called every step) and PostgreSQL's rows read by every node of the plan
(EXPLAIN ANALYZE). Before (migration 0013), the place was counted along the queue index up to
the claim, one index entry per claim ahead, and both grew tenfold with the queue."""

from __future__ import annotations

import json
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Engine, insert

from services.ledger.queue import _PLACES, count_in_queue, places_in_queue
from services.ledger.store import make_engine
from services.ledger.store.views import claims
from shared.ids import time_ordered_uuid

SUBMITTED_ON = date(2026, 11, 16)
DUE = SUBMITTED_ON + timedelta(days=7)
MADE_AT = 1_795_000_000_000  # Unix milliseconds: ids in the order the claims were made


def _queue(connection: Connection, start: int, count: int) -> list[str]:
    """`count` more claims of one payer, due and received on one day (a submission rush),
    through the projections' own queue count; their ids, in the order made."""
    made = []
    for n in range(start, start + count):
        claim_id = str(time_ordered_uuid(MADE_AT + n))
        row = {
            "id": claim_id,
            "created_position": n + 1,
            "partnership_id": "partnership",
            "agreement_id": "agreement",
            "payer_id": "icb",
            "payee_id": "charity",
            "status": "submitted",
            "version": 1,
            "submitted_on": SUBMITTED_ON,
            "amount_pence": 1000,
            "approved_pence": 0,
            "paid_pence": 0,
            "approval_due": DUE,
            "base_payment_due": DUE + timedelta(days=30),
            "facts": [],
            "settled_on": None,
        }
        connection.execute(insert(claims).values(row))
        count_in_queue(connection, SimpleNamespace(**row), None, "submitted")
        made.append(claim_id)
    return made


def _work(engine: Engine, connection: Connection, claim_id: str) -> int:
    """What the database did to answer the claim's place: SQLite VM steps or PostgreSQL rows
    read by the plan's nodes."""
    if engine.dialect.name == "sqlite":
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        raw: Any = connection.connection.dbapi_connection
        raw.set_progress_handler(count, 1)
        try:
            places_in_queue(connection, [claim_id])
        finally:
            raw.set_progress_handler(None, 1)
        return steps[0]
    compiled = _PLACES.compile(dialect=engine.dialect)
    expanded = compiled.construct_expanded_state({"claim_ids": [claim_id]})
    (plan,) = connection.exec_driver_sql(
        f"EXPLAIN (ANALYZE, FORMAT JSON) {expanded.statement}", expanded.parameters
    ).one()
    document = plan if isinstance(plan, list) else json.loads(plan)
    return _rows_read(document[0]["Plan"])


def _rows_read(node: dict[str, Any]) -> int:
    own = int(node.get("Actual Rows", 0)) * int(node.get("Actual Loops", 1))
    own += int(node.get("Rows Removed by Filter", 0)) + int(
        node.get("Rows Removed by Index Recheck", 0)
    )
    return own + sum(_rows_read(child) for child in node.get("Plans", []))


def test_the_place_of_the_claim_just_made_costs_the_same_however_long_the_queue(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            made = _queue(connection, 0, 40)
            first, fortieth = made[0], made[-1]
            assert places_in_queue(connection, [fortieth]) == {fortieth: (40, 40)}
            short_work = _work(engine, connection, fortieth)
            four_hundredth = _queue(connection, 40, 360)[-1]
            assert places_in_queue(connection, [four_hundredth]) == {four_hundredth: (400, 400)}
            long_work = _work(engine, connection, four_hundredth)
            assert places_in_queue(connection, [first, fortieth]) == {
                first: (1, 400),
                fortieth: (40, 400),
            }
    finally:
        engine.dispose()
    assert long_work <= short_work * 1.1 + 5, (short_work, long_work)
