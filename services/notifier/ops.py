"""Operators' tools for the notifier: rebuild the read model from the ledger's store, read and
redrive the dead-letter topic, and reset the consumer group's stored offsets.

The notifier's consumed offsets live in its own database (`nf_consumer_offsets`), written in
the same transaction as the effects, so resetting a group means rewriting those rows; Kafka's
copy of the group's offsets only serves monitoring tools.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from sqlalchemy import Engine, delete, func, select

from shared.events.envelope import StoredEvent
from shared.events.wire import to_record
from shared.sql import begin_write, insert_for

from .consumer import AfterBatch, DeadLetter, apply_batch, stored_offsets
from .keys import KeyRing
from .rebuild import READ_MODEL, clear_read_model
from .store.tables import consumer_offsets

DLQ_HEADERS = ("dlq_reason", "dlq_topic", "dlq_partition", "dlq_offset")
LEDGER_FEED = "ledger-feed"  # the pseudo-topic a rebuild from the ledger's store reads


# --- rebuild ------------------------------------------------------------------------------------


def read_model_counts(engine: Engine) -> dict[str, int]:
    """Rows per read-model table (what a rebuild would clear)."""
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in READ_MODEL
        }


@dataclass
class _FeedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] | None


def _refuse_dead_letters(letters: Sequence[DeadLetter]) -> None:
    reasons = "; ".join(letter.reason for letter in letters)
    raise RuntimeError(f"the ledger's store holds events the notifier cannot read: {reasons}")


def rebuild_from_feed(
    engine: Engine,
    read_feed: Callable[[int, int], Sequence[StoredEvent]],
    *,
    now: Callable[[], datetime],
    after_batch: AfterBatch | None = None,
    page: int = 500,
    keys: KeyRing | None = None,
) -> int:
    """Empty the read model and apply every event of the ledger's feed, in global order (the
    feed is what the relay publishes). The stored offsets are forgotten too, so the consumer
    then reads the topic from its start and skips, by event id, what is already applied.
    Returns the number of events applied."""
    clear_read_model(engine)
    applied = 0
    after = 0
    while True:
        events = read_feed(after, page)
        if not events:
            break
        records = []
        for event in events:
            record = to_record(event)
            records.append(
                _FeedRecord(
                    LEDGER_FEED, 0, event.global_position, record.key, record.value, record.headers
                )
            )
        with begin_write(engine) as connection:
            result = apply_batch(
                connection,
                records,
                group=LEDGER_FEED,
                now=now(),
                dead_letter=_refuse_dead_letters,
                after_batch=after_batch,
                keys=keys,
            )
        applied += result.applied
        after = events[-1].global_position
    with begin_write(engine) as connection:
        connection.execute(delete(consumer_offsets).where(consumer_offsets.c.topic == LEDGER_FEED))
    return applied


# --- dead letters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """One record of the dead-letter topic."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str:
        for header, value in self.headers:
            if header == name:
                return value.decode("utf-8", "replace")
        return ""

    @property
    def reason(self) -> str:
        return self.header("dlq_reason")

    @property
    def event_type(self) -> str:
        return self.header("ce_type")

    def summary(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "offset": self.offset,
            "time": datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC).isoformat()
            if self.timestamp_ms >= 0
            else None,
            "type": self.event_type,
            "reason": self.reason,
            "from": {
                "topic": self.header("dlq_topic"),
                "partition": self.header("dlq_partition"),
                "offset": self.header("dlq_offset"),
            },
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "key": None if self.key is None else self.key.decode("utf-8", "replace"),
            "headers": {name: value.decode("utf-8", "replace") for name, value in self.headers},
            "body": self.value.decode("utf-8", "replace"),
        }

    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(name, value) for name, value in self.headers if name not in DLQ_HEADERS]


def read_letters(kafka_config: Mapping[str, Any], dlq_topic: str) -> list[Letter]:
    """Every record of the dead-letter topic, per partition in offset order (no group: reading
    moves nothing)."""
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **kafka_config)
    try:
        known = consumer.partitions_for_topic(dlq_topic)
        if not known:
            return []
        partitions = [TopicPartition(dlq_topic, p) for p in sorted(known)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        letters: list[Letter] = []
        idle = 0
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            batch = consumer.poll(timeout_ms=1000, max_records=5000)
            if not batch:
                idle += 1
                if idle > 30:
                    raise RuntimeError(f"could not read {dlq_topic} to its end")
                continue
            idle = 0
            for tp, records in batch.items():
                for record in records:
                    letters.append(
                        Letter(
                            partition=tp.partition,
                            offset=record.offset,
                            timestamp_ms=record.timestamp,
                            key=record.key,
                            value=record.value or b"",
                            headers=[(n, v or b"") for n, v in (record.headers or [])],
                        )
                    )
        return sorted(letters, key=lambda letter: (letter.partition, letter.offset))
    finally:
        consumer.close()


def find_letter(letters: Iterable[Letter], partition: int, offset: int) -> Letter | None:
    for letter in letters:
        if letter.partition == partition and letter.offset == offset:
            return letter
    return None


def redrive(kafka_config: Mapping[str, Any], events_topic: str, letters: Sequence[Letter]) -> int:
    """Publish the letters again to the events topic with their original key, value and
    headers (the dlq_* headers dropped). The consumer skips any event it already applied, by
    event id, so redriving twice is harmless. Returns how many were published."""
    if not letters:
        return 0
    producer = KafkaProducer(acks="all", **kafka_config)
    try:
        futures = [
            producer.send(
                events_topic,
                key=letter.key,
                value=letter.value,
                headers=letter.original_headers(),
            )
            for letter in letters
        ]
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close()
    return len(letters)


# --- reset offsets ------------------------------------------------------------------------------


def active_members(kafka_config: Mapping[str, Any], group: str) -> list[str]:
    """The members of the consumer group the broker knows now (empty when none runs)."""
    admin = KafkaAdminClient(**kafka_config)
    try:
        described = admin.describe_groups([group])
    finally:
        admin.close()
    members: list[str] = []
    for member in described.get(group, {}).get("members") or []:
        members.append(f"{member.get('member_id')} ({member.get('client_host')})")
    return members


def topic_bounds(
    kafka_config: Mapping[str, Any], topic: str
) -> tuple[dict[int, int], dict[int, int]]:
    """(earliest, latest) offset per partition of the topic."""
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **kafka_config)
    try:
        known = consumer.partitions_for_topic(topic)
        if not known:
            raise RuntimeError(f"topic {topic} does not exist")
        partitions = [TopicPartition(topic, p) for p in sorted(known)]
        begin = consumer.beginning_offsets(partitions)
        end = consumer.end_offsets(partitions)
        return (
            {tp.partition: begin[tp] for tp in partitions},
            {tp.partition: end[tp] for tp in partitions},
        )
    finally:
        consumer.close()


@dataclass(frozen=True)
class OffsetChange:
    partition: int
    before: int | None
    after: int


def plan_reset(
    engine: Engine,
    *,
    group: str,
    topic: str,
    earliest: Mapping[int, int],
    latest: Mapping[int, int],
    to: str,
    offset: int | None = None,
    partitions: Sequence[int] = (),
) -> list[OffsetChange]:
    """What a reset would write for each partition (all, or the ones named)."""
    with engine.connect() as connection:
        current = stored_offsets(connection, group, topic)
    chosen = list(partitions) or sorted(latest)
    changes = []
    for partition in chosen:
        if partition not in latest:
            raise ValueError(f"{topic} has no partition {partition}")
        if to == "earliest":
            target = earliest[partition]
        elif to == "latest":
            target = latest[partition]
        else:
            if offset is None:
                raise ValueError("--to offset needs --offset")
            target = min(max(offset, earliest[partition]), latest[partition])
        changes.append(OffsetChange(partition, current.get(partition), target))
    return changes


def apply_reset(
    engine: Engine, *, group: str, topic: str, changes: Sequence[OffsetChange], now: datetime
) -> None:
    with begin_write(engine) as connection:
        for change in changes:
            statement = insert_for(connection, consumer_offsets).values(
                consumer_group=group,
                topic=topic,
                partition=change.partition,
                next_offset=change.after,
                updated_at=now,
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["consumer_group", "topic", "partition"],
                    set_={"next_offset": change.after, "updated_at": now},
                )
            )
