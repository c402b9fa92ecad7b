"""The event topics: created once per cluster by `bridges kafka init`, idempotently.

The events topic keeps every event for ever (`retention.ms=-1`): it is the log any consumer can
rebuild from. Records carry the broker's append time (`message.timestamp.type=LogAppendTime`),
not the producer's clock, so a relay host whose clock runs ahead still gets its events in.
The dead-letter topic holds records a consumer could not read, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError, for_code

from shared.settings import KafkaSettings


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicOutcome:
    name: str
    created: bool
    partitions: int

    def describe(self) -> str:
        verb = "created" if self.created else "already existed"
        return f"topic {self.name}: {verb} ({self.partitions} partitions)"


def event_topics(
    settings: KafkaSettings,
    *,
    partitions: int = 6,
    replication_factor: int = 1,
    min_insync_replicas: int | None = None,
) -> list[TopicSpec]:
    """The events topic and its dead-letter topic, with the same durability settings."""
    if partitions < 1 or replication_factor < 1:
        raise ValueError("partitions and replication factor must be at least 1")
    if min_insync_replicas is not None and not 1 <= min_insync_replicas <= replication_factor:
        raise ValueError("min.insync.replicas must be between 1 and the replication factor")
    # LogAppendTime: the broker stamps each record as it appends it, so a producer whose clock
    # runs ahead cannot get events refused (`log.message.timestamp.after.max.ms`).
    configs = {
        "retention.ms": "-1",
        "cleanup.policy": "delete",
        "message.timestamp.type": "LogAppendTime",
    }
    if min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(min_insync_replicas)
    return [
        TopicSpec(settings.events_topic, partitions, replication_factor, configs),
        TopicSpec(settings.dlq_topic, partitions, replication_factor, configs),
    ]


def ensure_topics(
    client_config: Mapping[str, Any], specs: Sequence[TopicSpec], *, timeout_ms: int = 30_000
) -> list[TopicOutcome]:
    """Create the topics that do not exist yet; report each one as created or already there."""
    admin = KafkaAdminClient(**client_config, client_id="bridges-kafka-init")
    try:
        created: set[str] = set()
        existing = set(admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            result = admin.create_topics(
                {
                    spec.name: {
                        "num_partitions": spec.partitions,
                        "replication_factor": spec.replication_factor,
                        "configs": dict(spec.configs),
                    }
                    for spec in missing
                },
                timeout_ms=timeout_ms,
                raise_errors=False,
            )
            for topic in result["topics"]:
                error = for_code(topic["error_code"])
                if topic["error_code"] == 0:
                    created.add(topic["name"])
                elif error is not TopicAlreadyExistsError:  # a concurrent init won the race
                    raise error(f"creating topic {topic['name']}: {topic['error_message']}")
        names = [spec.name for spec in specs]
        admin.wait_for_topics(names, timeout_ms=timeout_ms)
        described = {topic["name"]: topic for topic in admin.describe_topics(names)}
        return [
            TopicOutcome(name, name in created, len(described[name]["partitions"]))
            for name in names
        ]
    finally:
        admin.close()
