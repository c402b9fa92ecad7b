"""`/readyz` of the relay and of the notifier's consumer follows their dependencies: the test's
own broker (`own_broker`, the fault runs' one) is paused (SIGSTOP: connections hang, as with a
broker that is away) and resumed,
the topic is missing then created, the lag grows over its bound then drains; each time
readiness fails with the reason, then recovers. The shared broker is never touched."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import requests
from kafka import KafkaProducer
from prometheus_client import CollectorRegistry

from services.ledger.relay import ensure_topics, event_topics
from services.ledger.relay.readiness import relay_readiness
from services.ledger.store import EventStore, make_engine
from services.notifier.consumer import EventConsumer
from services.notifier.readiness import consumer_readiness
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.ops_server import serve_ops
from shared.readiness import NotReady
from shared.settings import KafkaSettings, kafka_client_config
from tests.support.clock import TEST_TODAY, RunningClock
from tests.support.kafka import OwnBroker, running_relay
from tests.support.ledger_events import ledger_history

pytestmark = pytest.mark.kafka


def reason(ready: Callable[[], None]) -> str | None:
    """None when ready, else the reason `/readyz` gives."""
    try:
        ready()
    except NotReady as not_ready:
        return str(not_ready)
    return None


def eventually(ready: Callable[[], None], expected: str | None, timeout: float = 60) -> str | None:
    """Poll until the readiness reason contains `expected` (None: until ready)."""
    deadline = time.monotonic() + timeout
    while True:
        got = reason(ready)
        if (got is None) if expected is None else (got is not None and expected in got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"readiness is {got!r}, expected {expected!r}")
        time.sleep(0.5)


@pytest.fixture
def paused(own_broker: OwnBroker) -> Iterator[Callable[[], None]]:
    """Pause the test's broker; it is resumed at the end whatever happens."""
    yield own_broker.pause
    own_broker.resume()


def test_relay_readiness_follows_kafka_the_topic_and_its_lag(
    own_broker: OwnBroker,
    kafka_settings: KafkaSettings,
    sqlite_url: str,
    paused: Callable[[], None],
) -> None:
    settings = kafka_settings
    ledger_history(sqlite_url, TEST_TODAY - timedelta(days=75))  # events weeks old, unpublished
    engine = make_engine(sqlite_url)
    ready = relay_readiness(
        EventStore(engine),
        progress_name=settings.events_topic,
        kafka_config=kafka_client_config(settings),
        topic=settings.events_topic,
        max_lag_seconds=60,
        kafka_timeout_seconds=2,
        clock=RunningClock(),
    )
    server = serve_ops("127.0.0.1", 0, CollectorRegistry(), ready)
    url = f"http://127.0.0.1:{server.server_port}/readyz"
    try:
        both = reason(ready)
        assert both is not None
        assert f"the topic {settings.events_topic} does not exist on Kafka" in both
        assert (
            "the relay lags: the oldest of" in both
            and "(BRIDGES_RELAY_READY_MAX_LAG_SECONDS)" in both
        )

        ensure_topics(kafka_client_config(settings), event_topics(settings, partitions=2))
        assert "the relay lags" in (reason(ready) or "")
        assert "does not exist" not in (reason(ready) or "")
        with running_relay(sqlite_url, settings) as relay:
            relay.wait_caught_up(timeout=60)
        assert reason(ready) is None
        answer = requests.get(url, timeout=10)
        assert (answer.status_code, answer.json()) == (200, {"status": "ready"})

        paused()
        down = requests.get(url, timeout=10)
        assert down.status_code == 503
        assert down.json()["detail"].startswith(
            f"not ready: Kafka does not answer at {own_broker.bootstrap} within 2s"
        ), down.json()
        own_broker.resume()
        eventually(ready, None)
    finally:
        server.shutdown()
        server.server_close()
        engine.dispose()


def test_consumer_readiness_follows_kafka_and_its_lag(
    own_broker: OwnBroker,
    kafka_settings: KafkaSettings,
    empty_sqlite_url: str,
    paused: Callable[[], None],
) -> None:
    upgrade_notifier(empty_sqlite_url)
    settings = kafka_settings
    # A group of its own: the broker is the session's, and earlier runs' groups stay on it.
    group = f"readiness-test-{uuid.uuid4().hex[:8]}"
    # As `bridges notifier run` builds it: the connection and the group's own settings.
    config = {
        **kafka_client_config(settings),
        "session_timeout_ms": 10_000,
        "heartbeat_interval_ms": 3_000,
        "group_instance_id": f"{group}-0",
    }
    ensure_topics(kafka_client_config(settings), event_topics(settings, partitions=2))
    _produce(settings, 30)
    engine = make_engine(empty_sqlite_url)
    consumer = EventConsumer(
        engine,
        topic=settings.events_topic,
        dlq_topic=settings.dlq_topic,
        kafka_config=config,
        group=group,
        clock=RunningClock(),
        max_records=5,
    )
    ready = consumer_readiness(
        engine, consumer, kafka_config=config, max_lag=10, kafka_timeout_seconds=2
    )
    try:
        consumer.start()
        deadline = time.monotonic() + 120  # joining a group on a loaded machine
        while not consumer.partition_lag and time.monotonic() < deadline:
            consumer._lag_checked = 0  # noqa: SLF001 - measure after every batch, not every 5 s
            consumer.poll_once(timeout_ms=200)  # joins the group, then 5 records a batch
        waiting = sum(consumer.partition_lag.values())
        assert 20 <= waiting <= 30, consumer.partition_lag
        lagging = reason(ready)
        assert lagging is not None
        assert lagging.startswith(
            f"the consumer lags: {waiting} records not yet applied (partition "
        ), lagging
        assert lagging.endswith("over the bound of 10 (BRIDGES_NOTIFIER_READY_MAX_LAG)")

        consumer.run(until_caught_up=True)
        consumer._lag_checked = 0  # noqa: SLF001
        consumer._update_lag()  # noqa: SLF001
        assert reason(ready) is None

        paused()
        assert (reason(ready) or "").startswith(
            f"Kafka does not answer at {own_broker.bootstrap} within 2s"
        )
        own_broker.resume()
        eventually(ready, None)
    finally:
        consumer.close()
        engine.dispose()


def _produce(settings: KafkaSettings, count: int) -> None:
    """`count` records that are no Bridges events (the consumer dead-letters them)."""
    producer = KafkaProducer(**kafka_client_config(settings), acks="all")
    try:
        for n in range(count):
            producer.send(settings.events_topic, key=f"k{n % 4}".encode(), value=b"not an event")
        producer.flush(30)
    finally:
        producer.close()
