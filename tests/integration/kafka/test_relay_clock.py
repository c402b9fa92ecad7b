"""A relay whose clock runs ahead of the broker's (Kafka 4 refuses CreateTime records more than
`log.message.timestamp.after.max.ms`, 1 hour by default, ahead of its own clock).

The topics `bridges kafka init` creates stamp records at append (LogAppendTime), so the relay's
clock cannot get events refused. On a topic still on CreateTime the relay says plainly that
it is clock skew, shows it in a metric, keeps retrying the same batch (no loss, no skip) and
recovers once the clock is right."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import structlog
from kafka.admin import KafkaAdminClient, NewTopic

from services.ledger.application import Ledger
from services.ledger.store import EventStore, get_relay_position, make_engine
from shared.clock import real_now
from shared.settings import KafkaSettings, kafka_client_config
from tests.support.claims import TODAY, build_partnerships, submit_claims
from tests.support.clock import MovableClock
from tests.support.kafka import check_delivery, read_topic, running_relay

pytestmark = pytest.mark.kafka

AHEAD = timedelta(hours=3)
LOG_APPEND_TIME = 1  # kafka-python's ConsumerRecord.timestamp_type


class SkewedClock:
    """The host's clock, `ahead` of the broker's until it is set right."""

    def __init__(self, ahead: timedelta) -> None:
        self.ahead = ahead

    def __call__(self) -> datetime:
        return real_now() + self.ahead


@pytest.fixture
def ledger(sqlite_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url)
    yield Ledger(EventStore(engine), clock=MovableClock(TODAY))
    engine.dispose()


def test_kafka_init_topics_stamp_records_at_append_so_a_clock_ahead_is_harmless(
    sqlite_url: str, ledger: Ledger, kafka_settings: KafkaSettings, events_topic: str
) -> None:
    submit_claims(ledger, build_partnerships(ledger, 2), 10)
    stored = ledger.store.read_feed(0, 10_000)
    relay_clock = SkewedClock(AHEAD)
    with running_relay(sqlite_url, kafka_settings, clock=relay_clock) as relay:
        relay.wait_caught_up(timeout=60)
        assert relay.metric("bridges_relay_timestamp_rejections_total") == 0
        assert relay.metric("bridges_relay_clock_skew") == 0

    records = read_topic(kafka_settings.bootstrap_servers, events_topic)
    assert check_delivery(stored, records).ok
    assert {r.timestamp_type for r in records} == {LOG_APPEND_TIME}
    latest = max(r.timestamp for r in records) / 1000
    # Stamped by the broker: hours behind the relay's clock, which runs three hours ahead.
    assert latest < relay_clock().timestamp() - AHEAD.total_seconds() / 2


def test_on_a_create_time_topic_a_clock_ahead_is_reported_retried_and_recovered(
    sqlite_url: str, ledger: Ledger, kafka_settings: KafkaSettings
) -> None:
    topic = kafka_settings.events_topic
    admin = KafkaAdminClient(**kafka_client_config(kafka_settings))
    admin.create_topics(
        [NewTopic(topic, 3, 1, topic_configs={"message.timestamp.type": "CreateTime"})]
    )
    try:
        submit_claims(ledger, build_partnerships(ledger, 2), 10)
        stored = ledger.store.read_feed(0, 10_000)
        clock = SkewedClock(AHEAD)
        with (
            structlog.testing.capture_logs() as logs,
            running_relay(sqlite_url, kafka_settings, clock=clock) as relay,
        ):
            relay.wait_until(
                lambda: relay.metric("bridges_relay_timestamp_rejections_total") >= 2,
                60,
                "the broker refused two attempts",
            )
            assert relay.metric("bridges_relay_clock_skew") == 1
            assert get_relay_position(ledger.store.engine, topic) == 0  # nothing skipped

            clock.ahead = timedelta(0)  # NTP puts the clock right
            relay.wait_caught_up(timeout=60)
            relay.wait_until(
                lambda: relay.metric("bridges_relay_clock_skew") == 0, 10, "skew cleared"
            )
        skew = [entry for entry in logs if entry["event"] == "relay.clock_skew"]
        assert skew and skew[0]["log_level"] == "error"
        assert "clock" in skew[0]["message"] and "LogAppendTime" in skew[0]["message"]
        assert "refused for their timestamp" in skew[0]["error"]
        assert any(entry["event"] == "relay.clock_skew_cleared" for entry in logs)

        records = read_topic(kafka_settings.bootstrap_servers, topic)
        delivery = check_delivery(stored, records)
        assert delivery.ok, delivery.summary()
    finally:
        admin.delete_topics([topic])
        admin.close()
