"""The notifier against the real broker: per-test topics, the ledger's relay, the consumer."""

from tests.support.kafka import events_topic, kafka_bootstrap, kafka_settings

__all__ = ["events_topic", "kafka_bootstrap", "kafka_settings"]
