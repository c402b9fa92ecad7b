"""Running the notifier's consumer in tests until it has applied everything on the topic."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from services.notifier.consumer import AfterBatch, EventConsumer
from services.notifier.runner import raise_alerts_for
from shared.settings import KafkaSettings, kafka_client_config
from tests.support.clock import RunningClock


def consume_all(
    engine: Engine,
    settings: KafkaSettings,
    *,
    group: str | None = None,
    after_batch: AfterBatch | None = raise_alerts_for,
    clock: Callable[[], datetime] | None = None,
    max_records: int = 500,
) -> EventConsumer:
    """Consume the topic into the notifier database until no lag is left."""
    consumer = EventConsumer(
        engine,
        topic=settings.events_topic,
        dlq_topic=settings.dlq_topic,
        kafka_config=kafka_client_config(settings),
        group=group or f"notifier-test-{uuid.uuid4().hex[:8]}",
        after_batch=after_batch,
        clock=clock or RunningClock(),
        max_records=max_records,
    )
    try:
        consumer.run(until_caught_up=True)
    finally:
        consumer.close()
    return consumer
