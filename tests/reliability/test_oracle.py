"""The oracle itself can fail: a lost acknowledged write, an operation executed twice, a refused
operation that wrote, and a broken stream are each reported (and a clean history passes)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from services.ledger.api.app import create_app
from services.ledger.store.tables import events
from shared.settings import LedgerSettings
from tests.reliability import oracle
from tests.reliability.clients import in_process, submit
from tests.support.claims import TODAY
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, build_world


def test_the_oracle_reports_each_kind_of_violation(sqlite_url: str, tmp_path: Path) -> None:
    settings = LedgerSettings(database_url=sqlite_url, var_dir=str(tmp_path))
    app = create_app(settings, clock=MovableClock(TODAY), testing=True)
    ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, TODAY)
    call = in_process(world.api)
    a = world.a
    history = oracle.History("oracle-test")

    for _ in range(3):
        submit(history, call, world, a, TODAY)
    clean = oracle.check(history, ledger.store, seed=1, today=TODAY)
    assert clean.passed and clean.line().startswith("ops=3 ok=3 lost=0 duplicated=0 reordered=0")

    # Acknowledged, but not in the store.
    history.invoke("submit", {"ClaimSubmitted"}).answered(201, {"id": "nowhere"})
    # Executed twice under one id (two keys, one request id).
    twice = submit(history, call, world, a, TODAY)
    body, token = world.claim_body(a, TODAY), a.tokens["vcse_member"]
    call("POST", "/claims", token, body, {"X-Request-ID": twice.op_id, "Idempotency-Key": "k2"})
    # Answered as refused, yet it wrote.
    submit(history, call, world, a, TODAY).answered(409, {})
    verdict = oracle.check(history, ledger.store, seed=2, today=TODAY)
    assert (verdict.lost, verdict.duplicated) == (1, 1), verdict.line()
    assert "a refused operation wrote events" in verdict.problems

    # A stream whose versions skip one.
    with ledger.store.engine.begin() as connection:
        connection.execute(
            update(events).where(events.c.global_position == 1).values(stream_version=5)
        )
    broken = oracle.check(None, ledger.store, seed=3, today=TODAY)
    assert broken.reordered == 1 and not broken.passed
