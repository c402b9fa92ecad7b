"""An erasure and, after it in the same batch, an event sealed before it (published on another
partition, not yet consumed): the notifier must not open that event with the key it cached
before the erasure, or the clear text would be written after the scrub."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select

from services.ledger.people import erase_person
from services.notifier.consumer import apply_batch
from services.notifier.keys import DatabaseKeySource, KeyRing
from services.notifier.store.tables import claims
from shared.events.personal import ERASED
from shared.sql import begin_write, make_engine
from tests.support.ledger_events import FakeRecord, fake_records, ledger_history

START = date(2026, 9, 1)
QUESTION = "Which ward?"


def consume(engine: Engine, records: list[FakeRecord], keys: KeyRing) -> None:
    with begin_write(engine) as connection:
        apply_batch(
            connection,
            records,
            group="notifier",
            now=datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
            dead_letter=lambda batch: None,
            keys=keys,
        )


def test_an_event_after_the_erasure_in_its_batch_is_not_opened_with_a_cached_key(
    notifier_engine: Engine, sqlite_url: str
) -> None:
    history = ledger_history(sqlite_url, START)
    keys = KeyRing(DatabaseKeySource(make_engine(sqlite_url)))
    records = fake_records(history.records())
    queried = next(n for n, e in enumerate(history.events) if e.type == "ClaimQueried")
    claim_id = history.events[queried].data["claim_id"]
    # Everything but the question: the claim's key is now cached.
    consume(notifier_engine, [r for n, r in enumerate(records) if n != queried], keys)
    assert len(keys) > 0
    erase_person(history.world.ledger, None, history.world.a.person_ids["vcse_member"])
    history.refresh()
    erasure = fake_records(history.records())[-1]
    assert history.events[-1].type == "PersonalDataErased"
    assert f"claim:{claim_id}" in history.events[-1].data["subjects"]
    # The erasure first (a lower partition), then the question sealed before it.
    late = records[queried]
    batch = [
        FakeRecord("t", 0, 10_000, erasure.key, erasure.value, erasure.headers),
        FakeRecord("t", 1, 10_000, late.key, late.value, late.headers),
    ]
    consume(notifier_engine, batch, keys)
    with notifier_engine.connect() as connection:
        facts = connection.execute(
            select(claims.c.facts).where(claims.c.id == claim_id)
        ).scalar_one()
    texts = [f.get("text") for f in facts if f.get("kind") == "queried"]
    assert texts == [ERASED], facts
    assert QUESTION not in str(facts)
