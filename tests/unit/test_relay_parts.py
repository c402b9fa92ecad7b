"""The relay's pure parts: lag, backoff, Kafka client settings, topic specs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.ledger.relay import Backoff, Lag, event_topics, measure_lag
from shared.settings import KafkaSettings, kafka_client_config

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def test_lag_counts_events_behind_and_the_age_of_the_oldest_unpublished() -> None:
    assert measure_lag(20, NOW - timedelta(seconds=7.5), NOW) == Lag(20, 7.5)


def test_no_lag_when_caught_up_whatever_the_timestamps() -> None:
    assert measure_lag(0, None, NOW) == Lag(0, 0.0)
    assert measure_lag(0, NOW - timedelta(hours=1), NOW) == Lag(0, 0.0)
    assert measure_lag(-10, None, NOW) == Lag(0, 0.0)  # never negative


def test_lag_seconds_are_never_negative_with_a_clock_behind_the_writer() -> None:
    assert measure_lag(5, NOW + timedelta(seconds=2), NOW) == Lag(5, 0.0)


def test_backoff_grows_exponentially_to_its_cap_and_resets() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, rand=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_jitter_stays_between_half_and_the_full_delay() -> None:
    low = Backoff(initial=2.0, maximum=2.0, rand=lambda: 0.0)
    assert low.next_delay() == 1.0


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(initial=0, maximum=1)
    with pytest.raises(ValueError):
        Backoff(initial=2, maximum=1)


def test_kafka_settings_from_env_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_MECHANISM",
        "BRIDGES_EVENTS_TOPIC",
        "BRIDGES_DLQ_TOPIC",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = KafkaSettings.from_env()
    assert settings.events_topic == "bridges.ledger.events"
    assert settings.dlq_topic == "bridges.ledger.events.dlq"
    assert kafka_client_config(settings) == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "PLAINTEXT",
    }


def test_tls_and_sasl_settings_pass_through_to_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "k1:9093, k2:9093,k3:9093",
        "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "ledger",
        "KAFKA_SASL_PASSWORD": "s3cret",
        "KAFKA_SSL_CAFILE": "/etc/kafka/ca.pem",
        "KAFKA_SSL_CERTFILE": "/etc/kafka/client.pem",
        "KAFKA_SSL_KEYFILE": "/etc/kafka/client.key",
        "BRIDGES_EVENTS_TOPIC": "prod.events",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert kafka_client_config(KafkaSettings.from_env()) == {
        "bootstrap_servers": ["k1:9093", "k2:9093", "k3:9093"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ledger",
        "sasl_plain_password": "s3cret",
        "ssl_cafile": "/etc/kafka/ca.pem",
        "ssl_certfile": "/etc/kafka/client.pem",
        "ssl_keyfile": "/etc/kafka/client.key",
    }


def test_an_unknown_security_protocol_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ValueError, match="KAFKA_SECURITY_PROTOCOL"):
        KafkaSettings.from_env()


def test_topics_keep_events_for_ever_and_take_the_cluster_settings() -> None:
    events, dlq = event_topics(
        KafkaSettings(), partitions=12, replication_factor=3, min_insync_replicas=2
    )
    assert (events.name, dlq.name) == ("bridges.ledger.events", "bridges.ledger.events.dlq")
    assert events.partitions == 12 and events.replication_factor == 3
    assert events.configs["retention.ms"] == "-1"
    assert events.configs["message.timestamp.type"] == "LogAppendTime"  # the broker stamps
    assert events.configs["min.insync.replicas"] == "2"
    with pytest.raises(ValueError):
        event_topics(KafkaSettings(), replication_factor=1, min_insync_replicas=2)
