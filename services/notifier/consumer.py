"""The notifier's Kafka consumer: exactly-once effects from an at-least-once topic.

Each batch is applied in ONE transaction of the notifier's database: the read-model changes,
the alerts the changes raise (and their queued deliveries), the processed event ids and the
next offset of every partition in the batch. Kafka's own offset commit is switched off; on
assignment the consumer seeks to the offsets in its database. A crash anywhere before the
commit replays the batch from the stored offsets; a crash after it finds the work done.
Duplicates on the topic (the relay publishes at least once) are skipped by event id.

A record that cannot be decoded goes to the dead-letter topic with the reason and its
original topic, partition and offset, before the batch commits, so it is never lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Connection, Engine, select

from shared import clock as product_clock
from shared.calendar import london_date
from shared.events.catalogue import EventDecodeError
from shared.events.personal import sealed_subjects
from shared.events.types import PersonalDataErased
from shared.events.wire import ReceivedEvent, from_record
from shared.logging import get_logger
from shared.sql import begin_write, insert_for

from . import faults, telemetry
from .keys import KeyRing
from .projection import Projection, claim_ids_of
from .store.read_model import claims_just_written
from .store.tables import consumer_offsets, processed_events

log = get_logger("notifier.consumer")

# Called inside the batch transaction with the claims the batch changed and the day it is.
AfterBatch = Callable[[Connection, list[str], date, datetime], None]


class RecordLike(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] | None


@dataclass
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    changed_claims: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeadLetter:
    record: RecordLike
    reason: str


def stored_offsets(connection: Connection, group: str, topic: str) -> dict[int, int]:
    rows = connection.execute(
        select(consumer_offsets.c.partition, consumer_offsets.c.next_offset).where(
            consumer_offsets.c.consumer_group == group, consumer_offsets.c.topic == topic
        )
    ).all()
    return {row.partition: row.next_offset for row in rows}


def apply_batch(
    connection: Connection,
    records: Iterable[RecordLike],
    *,
    group: str,
    now: datetime,
    dead_letter: Callable[[Sequence[DeadLetter]], None],
    after_batch: AfterBatch | None = None,
    keys: KeyRing | None = None,
) -> BatchResult:
    """Apply records in the caller's transaction (see the module docstring). `keys` opens
    sealed personal fields; without it they stay sealed (unreadable, never wrong)."""
    result = BatchResult()
    next_offsets: dict[tuple[str, int], int] = {}
    poison: list[DeadLetter] = []
    decoded: list[ReceivedEvent] = []
    records = list(records)
    if keys is not None:
        # One request for the batch's unknown keys; KeysUnavailable retries the batch.
        keys.prefetch(s for r in records if r.value for s in sealed_subjects(r.value))
    opener = keys.open if keys is not None else None
    raw: list[RecordLike] = []
    for record in records:
        next_offsets[(record.topic, record.partition)] = record.offset + 1
        try:
            decoded.append(from_record(record.key, record.value, record.headers, opener=opener))
            raw.append(record)
        except EventDecodeError as error:
            poison.append(DeadLetter(record, str(error)))
    event_ids = [str(r.envelope.event_id) for r in decoded]  # each written once, as text
    seen = _processed(connection, event_ids)
    projection = Projection(connection)
    # The stored claims the batch touches, in one query (not one per event).
    projection.preload(
        claim_id
        for r, event_id in zip(decoded, event_ids, strict=True)
        if event_id not in seen
        for claim_id in claim_ids_of(r.event)
    )
    processed: list[dict[str, Any]] = []
    changed_claims: dict[str, None] = {}
    correlations: dict[str, str] = {}  # claim → the request id of the event that last changed it
    erased: set[str] = set()  # the subjects erased so far in this batch
    debugging = log.is_enabled_for(logging.DEBUG)  # asked once a batch, not once an event
    for record, received, event_id in zip(raw, decoded, event_ids, strict=True):
        if event_id in seen:
            result.duplicates += 1
            continue
        seen.add(event_id)
        if erased and record.value and sealed_subjects(record.value) & erased:
            # Sealed before an erasure this batch applied (another partition): opened again
            # now that the key is gone, so the clear text is not written after the scrub.
            received = from_record(record.key, record.value, record.headers, opener=opener)
        correlation_id = received.envelope.correlation_id
        for claim_id in projection.apply(received.envelope, received.event):
            changed_claims[claim_id] = None
            if correlation_id:
                correlations[claim_id] = correlation_id
        if keys is not None and isinstance(received.event, PersonalDataErased):
            keys.erased(received.event.subjects)
            erased.update(received.event.subjects)
        if debugging:
            log.debug(
                "event applied",
                event_id=event_id,
                type=received.envelope.type,
                global_position=received.envelope.global_position,
                correlation_id=correlation_id,
            )
        processed.append(
            {
                "event_id": event_id,
                "global_position": received.envelope.global_position,
                "processed_at": now,
            }
        )
        result.applied += 1
        faults.maybe_crash("mid_batch")
    projection.flush()
    if processed:
        connection.execute(processed_events.insert(), processed)
    result.changed_claims = list(changed_claims)
    if poison:
        dead_letter(poison)  # acknowledged by the broker before the offsets move past them
        result.dead_lettered = len(poison)
    if after_batch is not None and result.changed_claims:
        with (
            telemetry.batch_correlations(correlations),
            claims_just_written(projection.written()),
        ):
            after_batch(connection, result.changed_claims, london_date(now), now)
    if next_offsets:
        connection.execute(
            _offsets_statement(connection),
            [
                {
                    "consumer_group": group,
                    "topic": topic,
                    "partition": partition,
                    "next_offset": offset,
                    "updated_at": now,
                }
                for (topic, partition), offset in sorted(next_offsets.items())
            ],
        )
    faults.maybe_crash("before_commit")
    return result


def _offsets_statement(connection: Connection) -> Any:
    """The upsert of a batch's next offsets (every partition in one statement)."""
    insert = insert_for(connection, consumer_offsets)
    return insert.on_conflict_do_update(
        index_elements=["consumer_group", "topic", "partition"],
        set_={"next_offset": insert.excluded.next_offset, "updated_at": insert.excluded.updated_at},
    )


def _processed(connection: Connection, event_ids: list[str]) -> set[str]:
    """Which of these events were applied before (one query per 500 ids)."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start : start + 500]
        found.update(
            connection.execute(
                select(processed_events.c.event_id).where(processed_events.c.event_id.in_(chunk))
            ).scalars()
        )
    return found


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: EventConsumer) -> None:
        self._consumer = consumer

    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked", partitions=sorted(tp.partition for tp in revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self._consumer.seek_to_stored(list(assigned))


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag = Gauge(
            "bridges_notifier_consumer_lag",
            "Records on the events topic not yet applied, per partition",
            ["partition"],
            registry=registry,
        )
        self.applied = Counter(
            "bridges_notifier_events_applied_total",
            "Events applied to the read model",
            registry=registry,
        )
        self.duplicates = Counter(
            "bridges_notifier_events_duplicate_total",
            "Events skipped because they were already applied",
            registry=registry,
        )
        self.dead_lettered = Counter(
            "bridges_notifier_events_dead_lettered_total",
            "Records sent to the dead-letter topic",
            registry=registry,
        )


class EventConsumer:
    """The consumer loop of `bridges notifier run`."""

    def __init__(
        self,
        engine: Engine,
        *,
        topic: str,
        dlq_topic: str,
        kafka_config: Mapping[str, Any],
        group: str = "notifier",
        after_batch: AfterBatch | None = None,
        clock: Callable[[], datetime] = product_clock.now,
        registry: CollectorRegistry | None = None,
        max_records: int = 500,
        keys: KeyRing | None = None,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.group = group
        self.after_batch = after_batch
        self.clock = clock
        self._kafka_config = dict(kafka_config)
        # First, so a broker that cannot be reached (raises) leaves no metric registered and
        # the caller can try again with the same registry.
        self._consumer = KafkaConsumer(
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_records,
            **self._kafka_config,
        )
        self.metrics = ConsumerMetrics(registry or CollectorRegistry())
        self._producer: KafkaProducer | None = None
        self._stopping = threading.Event()
        self._lag_checked = 0.0
        self.applied_total = 0
        # Records still to apply per partition held, as last measured (every 5 s; readiness).
        self.partition_lag: dict[int, int] = {}
        self._asked_ends: dict[TopicPartition, int] = {}

    # -- assignment --------------------------------------------------------------------------

    def seek_to_stored(self, partitions: list[TopicPartition]) -> None:
        with self.engine.connect() as connection:
            offsets = stored_offsets(connection, self.group, self.topic)
        for tp in partitions:
            if tp.partition in offsets:
                self._consumer.seek(tp, offsets[tp.partition])
            else:
                self._consumer.seek_to_beginning(tp)
        log.info(
            "partitions assigned",
            partitions={tp.partition: offsets.get(tp.partition, 0) for tp in partitions},
        )

    # -- dead letters ------------------------------------------------------------------------

    def _dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        if self._producer is None:
            # The connection settings only: the consumer's group settings (session timeout,
            # static membership, as `bridges notifier run` passes them) are no producer's.
            connection = {
                k: v for k, v in self._kafka_config.items() if k in KafkaProducer.DEFAULT_CONFIG
            }
            self._producer = KafkaProducer(**{**connection, "acks": "all"})
        futures = []
        for letter in letters:
            record = letter.record
            headers = [
                *[(name, value or b"") for name, value in (record.headers or [])],
                ("dlq_reason", letter.reason.encode("utf-8")),
                ("dlq_topic", record.topic.encode("utf-8")),
                ("dlq_partition", str(record.partition).encode()),
                ("dlq_offset", str(record.offset).encode()),
            ]
            futures.append(
                self._producer.send(
                    self.dlq_topic, key=record.key, value=record.value or b"", headers=headers
                )
            )
            log.warning(
                "dead-lettered a record",
                reason=letter.reason,
                partition=record.partition,
                offset=record.offset,
            )
        for future in futures:
            future.get(timeout=30)
        self.metrics.dead_lettered.inc(len(letters))

    # -- the loop ----------------------------------------------------------------------------

    def poll_once(self, timeout_ms: int = 500) -> BatchResult:
        batches = self._consumer.poll(timeout_ms=timeout_ms)
        records = [record for partition in batches.values() for record in partition]
        result = BatchResult()
        if records:
            records.sort(key=lambda r: (r.partition, r.offset))
            with begin_write(self.engine) as connection:
                result = apply_batch(
                    connection,
                    records,
                    group=self.group,
                    now=self.clock(),
                    dead_letter=self._dead_letter,
                    after_batch=self.after_batch,
                    keys=self.keys,
                )
            self.metrics.applied.inc(result.applied)
            self.applied_total += result.applied
            self.metrics.duplicates.inc(result.duplicates)
            faults.maybe_crash("after_commit")
            # Kafka's copy of the offsets only serves monitoring tools; ours is the truth.
            self._consumer.commit_async()
        self._update_lag()
        return result

    def _update_lag(self) -> None:
        now = time.monotonic()
        if now - self._lag_checked < 5:
            return
        self._lag_checked = now
        assigned = list(self._consumer.assignment())
        if not assigned:
            self.partition_lag = {}
            return
        ends = self._consumer.end_offsets(assigned)
        measured = {}
        for tp in assigned:
            measured[tp.partition] = max(ends.get(tp, 0) - self._consumer.position(tp), 0)
            self.metrics.lag.labels(str(tp.partition)).set(measured[tp.partition])
        self.partition_lag = measured

    def lag(self) -> int:
        """Records still to apply on the partitions this consumer holds, against the end
        offsets the fetch responses carry (no round trip to the broker per call). A partition
        none has answered for yet (an empty one is answered only after the fetch wait) is
        asked for once, and that answer stands until a fetch brings a newer one."""
        assigned = list(self._consumer.assignment())
        if not assigned:
            return 0
        ends = {tp: self._consumer.highwater(tp) for tp in assigned}
        unknown = [tp for tp, end in ends.items() if end is None and tp not in self._asked_ends]
        if unknown:
            self._asked_ends.update(self._consumer.end_offsets(unknown))
        behind = 0
        for tp, end in ends.items():
            known_end = end if end is not None else self._asked_ends.get(tp, 0)
            behind += max(known_end - self._consumer.position(tp), 0)
        return behind

    def start(self) -> None:
        self._consumer.subscribe([self.topic], listener=_SeekToStored(self))

    def run(self, *, until_caught_up: bool = False) -> None:
        """Consume until stopped (or, with `until_caught_up`, until no lag is left)."""
        self.start()
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("batch failed; it will be retried from the stored offsets")
                self._rewind()
                time.sleep(1)
                continue
            if until_caught_up and self._consumer.assignment() and self.lag() == 0:
                break

    def _rewind(self) -> None:
        assigned = list(self._consumer.assignment())
        if assigned:
            self.seek_to_stored(assigned)

    def stop(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        self._consumer.close()
        if self._producer is not None:
            self._producer.close()
