"""The fault runs' settle check (`notifier_settled`, which `make soak` and R2 wait on) holds once
the notifier has applied every stored event, also when the store's positions have a hole.

On PostgreSQL an append that rolls back burns its position (services/ledger/store/event_store.py:
positions increase, not contiguously); in the soak a ledger SIGKILLed mid-request does exactly
that. The check once compared the count of applied events with the store's LAST POSITION: after
a hole the count can never reach it, and a full `make soak` (dozens of kills) ended with
"notifiers not settled within 300 s" while every notifier had applied everything.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from services.ledger.store import EventStore
from services.notifier.ops import rebuild_from_feed
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.events.envelope import NewEvent
from shared.sql import make_engine
from tests.support.clock import TEST_TODAY
from tests.support.ledger_events import ledger_history
from tests.support.notifier_run import notifier_settled, stored_events


class RolledBack(Exception):
    """What makes the unit of work below roll back after its append."""


def burn_a_position(store: EventStore) -> None:
    """An append that rolls back (as a request whose ledger is killed before its commit)."""
    first = store.read_feed(0, 1)[0]
    with pytest.raises(RolledBack), store.unit_of_work() as uow:
        uow.append(
            f"hole-{first.stream_id}",
            0,
            [NewEvent(first.type, first.data, first.schema_version)],
            partition_key=first.partition_key,
        )
        raise RolledBack


@pytest.mark.postgres
def test_a_notifier_that_applied_every_event_is_settled_though_positions_have_a_hole(
    postgres_url: str, tmp_path: Path
) -> None:
    history = ledger_history(postgres_url, TEST_TODAY - timedelta(days=50))
    store = history.world.ledger.store
    burn_a_position(store)
    history.world.submit(history.world.b, history.clock.today())  # an event after the hole
    assert store.last_position() > stored_events(store), "the store has a hole in its positions"

    notifier_url = f"sqlite:///{tmp_path / 'notifier.db'}"
    upgrade_notifier(notifier_url)
    engine = make_engine(notifier_url)
    try:
        assert not notifier_settled(engine, store)  # nothing applied yet
        applied = rebuild_from_feed(engine, store.read_feed, now=lambda: history.clock.now)
        assert applied == stored_events(store)
        assert notifier_settled(engine, store)
    finally:
        engine.dispose()
