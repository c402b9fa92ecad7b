"""The notifier against the real broker: per-test topics, the ledger's relay, the consumer; and
`consumed`, the setup most of these tests share (a ledger history, relayed, then consumed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from shared.settings import KafkaSettings
from shared.sql import make_engine
from tests.support.clock import TEST_TODAY
from tests.support.kafka import events_topic, kafka_bootstrap, kafka_settings, running_relay
from tests.support.ledger_events import LedgerHistory, ledger_history
from tests.support.notifier_run import consume_all

__all__ = ["consumed", "events_topic", "kafka_bootstrap", "kafka_settings"]

START = TEST_TODAY - timedelta(days=75)


@dataclass
class Consumed:
    """The ledger's history on the topic, consumed into the notifier database by `group`;
    `ledger_url` is the ledger's database (the data keys that open sealed personal fields)."""

    history: LedgerHistory
    engine: Engine
    group: str
    ledger_url: str


@pytest.fixture
def consumed(
    sqlite_url: str, notifier_url: str, kafka_settings: KafkaSettings, events_topic: str
) -> Iterator[Consumed]:
    """History → relay → consume: two tenants' claims over two months (see `ledger_history`),
    every event published by the relay, then consumed until no lag is left."""
    history = ledger_history(sqlite_url, START)
    with running_relay(sqlite_url, kafka_settings) as relay:
        relay.wait_caught_up()
    engine = make_engine(notifier_url)
    group = f"notifier-{uuid.uuid4().hex[:8]}"
    consume_all(engine, kafka_settings, group=group, ledger_url=sqlite_url)
    yield Consumed(history, engine, group, sqlite_url)
    engine.dispose()
