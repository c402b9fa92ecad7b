"""Running the notifier's consumer in tests until it has applied everything on the topic, and
the read model as comparable rows (a rebuild must give back the live one)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from services.ledger.store import EventStore
from services.ledger.store.tables import events
from services.notifier.consumer import AfterBatch, EventConsumer
from services.notifier.keys import DatabaseKeySource, KeyRing
from services.notifier.runner import raise_alerts_for
from services.notifier.store import tables
from shared.settings import KafkaSettings, kafka_client_config
from shared.sql import make_engine
from tests.support.clock import RunningClock


def consume_all(
    engine: Engine,
    settings: KafkaSettings,
    *,
    group: str | None = None,
    after_batch: AfterBatch | None = raise_alerts_for,
    clock: Callable[[], datetime] | None = None,
    max_records: int = 500,
    keys: KeyRing | None = None,
    ledger_url: str | None = None,
) -> EventConsumer:
    """Consume the topic into the notifier database until no lag is left. Sealed personal
    fields open with `keys`, or with keys read from the ledger's database at `ledger_url`."""
    if keys is None and ledger_url is not None:
        keys = KeyRing(DatabaseKeySource(make_engine(ledger_url)))
    consumer = EventConsumer(
        engine,
        topic=settings.events_topic,
        dlq_topic=settings.dlq_topic,
        kafka_config=kafka_client_config(settings),
        group=group or f"notifier-test-{uuid.uuid4().hex[:8]}",
        after_batch=after_batch,
        clock=clock or RunningClock(),
        max_records=max_records,
        keys=keys,
    )
    try:
        consumer.run(until_caught_up=True)
    finally:
        consumer.close()
    return consumer


# The notifier's read model: what a rebuild from the topic must give back, row for row.
READ_MODEL = (
    tables.organisations,
    tables.people,
    tables.partnerships,
    tables.partnership_members,
    tables.agreements,
    tables.claims,
    tables.payments,
)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The read model, every table's rows as sorted JSON tuples (comparable across databases)."""
    with engine.connect() as connection:
        return {
            table.name: sorted(
                tuple(json.dumps(v, sort_keys=True, default=str) for v in row)
                for row in connection.execute(select(table))
            )
            for table in READ_MODEL
        }


def stored_events(store: EventStore) -> int:
    """How many events the ledger's store holds: what a notifier that is caught up has applied.
    Not `store.last_position()`: positions increase but have holes (on PostgreSQL an append
    that rolls back, as when a ledger is killed mid-request, burns its position), so the last
    position can be more than the number of events there are to apply."""
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(events)).scalar_one())


def applied_and_pending(engine: Engine) -> tuple[int, int]:
    """How many events the notifier applied, and how many of its deliveries are pending."""
    with engine.connect() as connection:
        applied = connection.execute(select(func.count()).select_from(tables.processed_events))
        pending = connection.execute(
            select(func.count())
            .select_from(tables.deliveries)
            .where(tables.deliveries.c.status == "pending")
        )
        return int(applied.scalar_one()), int(pending.scalar_one())


def notifier_settled(engine: Engine, store: EventStore) -> bool:
    """The notifier applied every event the ledger's store holds (`stored_events`, counted)
    and has no delivery left pending."""
    applied, pending = applied_and_pending(engine)
    return applied >= stored_events(store) and pending == 0
