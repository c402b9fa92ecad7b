"""Running the notifier's consumer in tests until it has applied everything on the topic."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from services.notifier.consumer import AfterBatch, EventConsumer
from services.notifier.keys import DatabaseKeySource, KeyRing
from services.notifier.runner import raise_alerts_for
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
