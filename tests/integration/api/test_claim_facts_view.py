"""The claims view keeps each claim's terms and dated facts (maintained with the events), and
migration 0004 backfills them from the log for databases that predate it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from services.ledger.store.views import claims
from shared.claim_position import fact_to_json, facts_of
from shared.events.personal import claim_subject, is_sealed, open_value
from tests.support.clock import MovableClock
from tests.support.migrations import ledger_migration
from tests.support.world import World


def _history(world: World, clock: MovableClock) -> list[str]:
    a = world.a
    paid = world.submit(a, clock.today())
    queried = world.submit(a, clock.today())
    world.submit(a, clock.today())
    clock.advance(2)
    paid = world.act(a, paid, "approve", "approver")
    queried = world.act(a, queried, "query", "approver", {"question": "Which workshop?"})
    clock.advance(3)
    world.pay(a, paid, 1000, clock.today() - timedelta(days=1))
    world.act(a, queried, "answer", "vcse_member", {"answer": "The second one."})
    return [paid["id"], queried["id"]]


def test_the_view_holds_the_facts_the_streams_state(world: World, clock: MovableClock) -> None:
    _history(world, clock)
    ledger = world.ledger
    with ledger.reading() as uow:
        rows = uow.connection.execute(select(claims)).all()
        for row in rows:
            claim = ledger._load_claim(uow, row.id)
            assert claim is not None
            # Questions and answers stay sealed in the view, as in the log: erasable.
            subject = claim_subject(row.id)
            key = uow.data_keys.load([subject])[subject]
            texts = [f["text"] for f in row.facts if f["kind"] in ("queried", "answered")]
            assert all(is_sealed(text) for text in texts)
            opened = [
                {**f, "text": open_value(key, subject, f["text"])}
                if is_sealed(f.get("text"))
                else f
                for f in row.facts
            ]
            assert opened == [fact_to_json(f) for f in facts_of(row.id, claim.history)]
            assert row.approval_due == claim.approval_due
            assert row.base_payment_due == claim.base_payment_due


def test_the_migration_backfills_facts_from_the_log(world: World, clock: MovableClock) -> None:
    _history(world, clock)
    ledger = world.ledger
    a = world.a
    path = f"/partnerships/{a.partnership_id}/balances"
    days = [clock.today() + timedelta(days=d) for d in (-5, 0, 40, 90)]
    before = [world.api.ok("GET", f"{path}?as_at={d}", a.tokens["finance"]) for d in days]
    with ledger.store.engine.begin() as connection:
        kept = {row.id: row for row in connection.execute(select(claims)).all()}
        connection.execute(
            update(claims).values(facts=None, approval_due=None, base_payment_due=None)
        )
        ledger_migration("0004_claim_facts.py")._backfill(connection)
        after_rows = {row.id: row for row in connection.execute(select(claims)).all()}
    assert after_rows == kept
    after = [world.api.ok("GET", f"{path}?as_at={d}", a.tokens["finance"]) for d in days]
    assert after == before
