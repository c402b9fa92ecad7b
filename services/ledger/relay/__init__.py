"""The transactional outbox relay: the event store's feed published to Kafka."""

from services.ledger.relay.leader import Leadership, LeadershipLost, leadership_for
from services.ledger.relay.relay import (
    PRODUCER_CONFIG,
    Backoff,
    Lag,
    Relay,
    RelayMetrics,
    RelayOptions,
    make_producer,
    measure_lag,
)
from services.ledger.relay.topics import TopicOutcome, TopicSpec, ensure_topics, event_topics

__all__ = [
    "PRODUCER_CONFIG",
    "Backoff",
    "Lag",
    "Leadership",
    "LeadershipLost",
    "Relay",
    "RelayMetrics",
    "RelayOptions",
    "TopicOutcome",
    "TopicSpec",
    "ensure_topics",
    "event_topics",
    "leadership_for",
    "make_producer",
    "measure_lag",
]
