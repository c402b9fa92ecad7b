"""The approval queue's day counts (`queue_days`, kept by the projections) stay exactly the
claims view's queued claims counted by payer and day, through every move in and out of the
queue (submissions, queries and answers, amendments, approvals, rejections, withdrawals, and
payments and reversals beside them), on SQLite and PostgreSQL; every claim's place from them
is its rank in `queue_key` order; and migration 0013's backfill counts the same."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, select

from services.ledger.queue import places_in_queue, queue_key
from services.ledger.store.views import claims, queue_days
from tests.integration.api.test_balances_maintained import History, history_world
from tests.support.clock import MovableClock
from tests.support.migrations import ledger_migration
from tests.support.world import ApiClient, World

__all__ = ["history_world"]


def _kept(connection: Connection) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in connection.execute(select(queue_days)).all())


def _check(world: World) -> int:
    """The day counts and every claim's place against the claims view; how many are queued."""
    with world.ledger.reading() as uow:
        connection = uow.connection
        rows = connection.execute(
            select(
                claims.c.id,
                claims.c.payer_id,
                claims.c.status,
                claims.c.approval_due,
                claims.c.submitted_on,
            )
        ).all()
        kept = _kept(connection)
        places = places_in_queue(connection, [row.id for row in rows])
    queued = [row._mapping for row in rows if row.status == "submitted"]
    by_day = Counter((c["payer_id"], c["approval_due"], c["submitted_on"]) for c in queued)
    assert kept == sorted((*day, count) for day, count in by_day.items())
    ranked: dict[str, tuple[int, int]] = {}
    for payer in {c["payer_id"] for c in queued}:
        queue = sorted((c for c in queued if c["payer_id"] == payer), key=queue_key)
        for place, claim in enumerate(queue, start=1):
            ranked[claim["id"]] = (place, len(queue))
    assert places == ranked
    return len(queued)


def test_day_counts_and_places_follow_every_move_in_and_out_of_the_queue(
    history_world: World,
) -> None:
    world = history_world
    clock: MovableClock = world.clock  # type: ignore[attr-defined]
    history = History(world, seed=13)
    most = 0
    for _day in range(6):  # a queue to rank: claims received on several days, some the same day
        for _ in range(3):
            claim = world.submit(world.a, clock.today() - timedelta(days=_day))
            history.claims[claim["id"]] = claim
        most = max(most, _check(world))
        clock.advance(1)
    for _day in range(60):
        for _ in range(history.random.choice((0, 1, 2, 3))):
            history.step()
            most = max(most, _check(world))
        clock.advance(1)
    assert {"submitted", "queried", "approved", "rejected", "withdrawn"} <= history.seen
    assert most >= 18, most

    with world.ledger.store.engine.begin() as connection:
        kept = _kept(connection)
        connection.execute(delete(queue_days))
        ledger_migration("0013_queue_days.py").backfill(connection)
        assert _kept(connection) == kept


def test_commands_at_once_on_one_day_of_one_queue_keep_its_count(history_world: World) -> None:
    """Submissions at once into one payer's day (each adding to the same `queue_days` row), then
    decisions at once taking claims out of it, down to the row's removal: no count is lost."""
    world = history_world
    a = world.a
    clock: MovableClock = world.clock  # type: ignore[attr-defined]
    app = world.api.client.application

    def at_once(calls: list[tuple[str, str, Any, dict[str, str]]]) -> list[Any]:
        barrier = threading.Barrier(len(calls))

        def one(call: tuple[str, str, Any, dict[str, str]]) -> Any:
            path, role, body, headers = call
            api = ApiClient(app.test_client())
            barrier.wait()
            return api.ok("POST", path, a.tokens[role], body, headers=headers)

        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(one, calls))

    body = world.claim_body(a, clock.today())
    made = at_once([("/claims", "vcse_member", body, {}) for _ in range(12)])
    assert _check(world) == 12
    decisions = [
        (f"/claims/{c['id']}/{action}", "approver", data, {"If-Match": f'"{c["version"]}"'})
        for c, (action, data) in zip(
            made,
            [("approve", {}), ("reject", {"reason": "Not in scope"}), ("query", {"question": "?"})]
            * 4,
            strict=True,
        )
    ]
    at_once(decisions)
    assert _check(world) == 0
    with world.ledger.reading() as uow:
        assert _kept(uow.connection) == []
