"""The real Kafka broker (deploy/local/kafka.sh or KAFKA_BOOTSTRAP_SERVERS) and per-test topics."""

from tests.support.kafka import events_topic, kafka_bootstrap, kafka_settings

__all__ = ["events_topic", "kafka_bootstrap", "kafka_settings"]
