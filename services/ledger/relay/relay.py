"""The outbox relay: the store's ordered feed, published to Kafka, at least once and in order.

Loop: hold the single-publisher leadership; read up to `batch_size` events after the recorded
position; send them as CloudEvents records (key = partition key) with an idempotent producer
(`acks=all`); once the broker acknowledged every one, record the batch's last position.
Any failure (broker down, records expired, producer unusable) closes the producer, waits with
backoff and republishes from the recorded position: duplicates on the topic are possible, loss
and reordering of first deliveries are not. A broker that is merely slow or paused is waited
for, batch by batch, while the leadership is kept renewed and the lag keeps being reported.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kafka import KafkaProducer
from kafka.errors import InvalidRecordError, InvalidTimestampError, KafkaError
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.exc import DBAPIError

from services.ledger.relay.leader import Leadership, LeadershipLost, leadership_for
from services.ledger.store.event_store import EventStore, get_relay_position
from shared import clock as product_clock
from shared.events.envelope import StoredEvent
from shared.events.wire import to_record
from shared.logging import get_logger
from shared.settings import KafkaSettings, kafka_client_config

# The producer settings the delivery guarantee rests on (the bench's baseline uses them too).
PRODUCER_CONFIG: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "max_in_flight_requests_per_connection": 5,
    "linger_ms": 5,
    "batch_size": 256 * 1024,
    "max_block_ms": 10_000,  # metadata waits and bootstrap: short, so a stop is seen soon
    "bootstrap_timeout_ms": 10_000,
    "delivery_timeout_ms": 120_000,
}


def make_producer(settings: KafkaSettings, **overrides: Any) -> KafkaProducer:
    """An idempotent producer for the relay (raises `KafkaError` if no broker answers)."""
    config = {**kafka_client_config(settings), "client_id": "bridges-relay", **PRODUCER_CONFIG}
    return KafkaProducer(**{**config, **overrides})


@dataclass(frozen=True)
class Lag:
    """How far the topic is behind the store."""

    events: int
    seconds: float


def measure_lag(unpublished: int, oldest_unpublished_at: datetime | None, now: datetime) -> Lag:
    """Events behind (the feed's events after the published one, `EventStore.count_after`) and
    the age of the oldest unpublished event (0 when caught up)."""
    events = max(0, unpublished)
    if events == 0 or oldest_unpublished_at is None:
        return Lag(events, 0.0)
    return Lag(events, max(0.0, (now - oldest_unpublished_at).total_seconds()))


class Backoff:
    """Exponential backoff with jitter: initial, ×factor per failure, capped; reset on success."""

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 10.0,
        factor: float = 2.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < initial <= maximum or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self._rand = rand
        self._failures = 0

    def next_delay(self) -> float:
        """The wait before the next attempt: half fixed, half random (no thundering herd)."""
        ceiling = min(self.maximum, self.initial * self.factor**self._failures)
        self._failures += 1
        return ceiling / 2 + self._rand() * ceiling / 2

    def reset(self) -> None:
        self._failures = 0


class RelayMetrics:
    """The relay's Prometheus gauges and counters, on their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.lag_events = Gauge(
            "bridges_relay_lag_events", "Stored events not yet published", registry=r
        )
        self.lag_seconds = Gauge(
            "bridges_relay_lag_seconds", "Age of the oldest unpublished event", registry=r
        )
        self.position = Gauge(
            "bridges_relay_published_position", "Last global position published", registry=r
        )
        self.leader = Gauge("bridges_relay_leader", "1 while this relay publishes", registry=r)
        self.published = Counter(
            "bridges_relay_published_events", "Events acknowledged by the broker", registry=r
        )
        self.failures = Counter(
            "bridges_relay_publish_failures", "Batches that failed and will be retried", registry=r
        )
        self.clock_skew = Gauge(
            "bridges_relay_clock_skew",
            "1 while the broker refuses the relay's records for their timestamp (clock ahead)",
            registry=r,
        )
        self.timestamp_rejections = Counter(
            "bridges_relay_timestamp_rejections",
            "Batches the broker refused for their record timestamps (will be retried)",
            registry=r,
        )


@dataclass(frozen=True)
class RelayOptions:
    topic: str
    name: str | None = None  # the progress row; default: the topic's name
    batch_size: int = 500
    # An idle store is looked at 20 times a second: what a new event waits for the relay (25 ms
    # on average) is part of submission → alert latency; a look is one indexed query.
    poll_interval: float = 0.05
    lock_retry_seconds: float = 1.0
    lease_seconds: float = 15.0
    stop_grace_seconds: float = 10.0  # how long a stop waits for an unacknowledged batch
    lag_log_seconds: float = 10.0

    @property
    def progress_name(self) -> str:
        return self.name or self.topic


class PublishFailed(Exception):
    """A batch was not acknowledged in full; it will be published again."""


class TimestampRefused(PublishFailed):
    """The broker refused records for their timestamp: with `message.timestamp.type=CreateTime`
    it takes the producer's, and refuses one further ahead of its own clock than
    `log.message.timestamp.after.max.ms` (1 hour by default in Kafka 4). The batch is retried."""


CLOCK_SKEW_ADVICE = (
    "The broker refuses the relay's records because their timestamps (this host's clock) are "
    "too far from the broker's clock. Nothing is lost or skipped: the relay retries the same "
    "batch until it is accepted. Fix the clock (NTP) on this host or the broker, or create the "
    "topics with message.timestamp.type=LogAppendTime (`bridges kafka init` does) so the broker "
    "stamps records itself."
)


@dataclass(frozen=True)
class _Sent:
    """A batch handed to the producer: its last position and the records' futures."""

    last_position: int
    first_occurred_at: datetime
    futures: list[Any]


def _timestamp_refused(error: BaseException | None) -> bool:
    """The broker refused a record for its timestamp: `InvalidTimestampError`, or (records
    of a batch that failed with it) `InvalidRecordError` saying the timestamp is out of range."""
    if isinstance(error, InvalidTimestampError):
        return True
    text = str(error).lower()
    return isinstance(error, InvalidRecordError) and "timestamp" in text and "range" in text


def _describe(error: BaseException) -> str:
    if isinstance(error, DBAPIError):
        return f"{type(error).__name__}: {error.orig}"
    return f"{type(error).__name__}: {error}"


class Relay:
    """Publishes the store's feed to one topic; `run(stop)` until `stop` is set."""

    def __init__(
        self,
        store: EventStore,
        producer_factory: Callable[[], KafkaProducer],
        options: RelayOptions,
        *,
        leadership: Leadership | None = None,
        metrics: RelayMetrics | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if options.batch_size < 1 or options.poll_interval <= 0:
            raise ValueError("need batch_size >= 1 and poll_interval > 0")
        self.store = store
        self.options = options
        self.leadership = leadership or leadership_for(
            store.engine, options.progress_name, lease_seconds=options.lease_seconds
        )
        self.metrics = metrics or RelayMetrics()
        self._producer_factory = producer_factory
        self._producer: KafkaProducer | None = None
        self._clock = clock or product_clock.now
        self._log = get_logger("ledger.relay").bind(
            relay=options.progress_name, topic=options.topic, owner=self.leadership.owner
        )
        self._backoff = Backoff()
        self._skewed = False
        self._lag_logged_at = 0.0
        self._unpublished = 0
        self.position = 0

    # ---- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Wait for the leadership, publish while holding it; return once `stop` is set."""
        self._log.info("relay.started", batch_size=self.options.batch_size)
        try:
            while not stop.is_set():
                if not self._take_leadership(stop):
                    break
                try:
                    self._publish_while_leading(stop)
                except LeadershipLost as lost:
                    self._log.warning("relay.leadership_lost", reason=str(lost))
                finally:
                    self._close_producer(timeout=0 if stop.is_set() else 5)
                    self._release()
        finally:
            self._close_producer(timeout=0)
            self._log.info("relay.stopped", position=self.position)

    def _take_leadership(self, stop: threading.Event) -> bool:
        waiting_logged = False
        while not stop.is_set():
            try:
                if self.leadership.try_acquire():
                    self.metrics.leader.set(1)
                    self._backoff.reset()
                    self._log.info("relay.leading")
                    return True
            except DBAPIError as error:
                self._log.warning("relay.database_unavailable", error=str(error.orig))
                stop.wait(self._backoff.next_delay())
                continue
            if not waiting_logged:
                self._log.info("relay.waiting", reason="another relay publishes this feed")
                waiting_logged = True
            stop.wait(self.options.lock_retry_seconds)
        return False

    def _release(self) -> None:
        self.metrics.leader.set(0)
        try:
            self.leadership.release()
        except DBAPIError as error:
            self._log.warning("relay.release_failed", error=str(error.orig))

    def _publish_while_leading(self, stop: threading.Event) -> None:
        self.position = get_relay_position(self.store.engine, self.options.progress_name)
        self.metrics.position.set(self.position)
        self._log.info("relay.resuming", position=self.position)
        while not stop.is_set():  # a stop is seen between batches
            self.leadership.confirm()
            try:
                published = self._publish_next_batch(stop)
            except (KafkaError, PublishFailed, DBAPIError) as error:
                # Start again from the recorded position with a new producer: what was sent
                # and not recorded is sent again (duplicates, never a gap or a reordering).
                self._close_producer(timeout=0)
                self.metrics.failures.inc()
                delay = self._backoff.next_delay()
                if isinstance(error, TimestampRefused):
                    self._clock_skew(error, delay)
                    stop.wait(delay)
                    continue
                self._log.warning(
                    "relay.publish_failed",
                    error=_describe(error),
                    position=self.position,
                    retry_in=round(delay, 2),
                )
                stop.wait(delay)
                continue
            self._backoff.reset()
            if published and self._skewed:
                self._skewed = False
                self.metrics.clock_skew.set(0)
                self._log.info("relay.clock_skew_cleared", position=self.position)
            if not published:
                stop.wait(self.options.poll_interval)

    def _clock_skew(self, error: TimestampRefused, delay: float) -> None:
        self._skewed = True
        self.metrics.clock_skew.set(1)
        self.metrics.timestamp_rejections.inc()
        self._log.error(
            "relay.clock_skew",
            message=CLOCK_SKEW_ADVICE,
            error=str(error),
            relay_clock=self._clock().isoformat(),
            position=self.position,
            retry_in=round(delay, 2),
        )

    def _publish_next_batch(self, stop: threading.Event) -> int:
        batch = self.store.read_feed(self.position, self.options.batch_size)
        if not batch:
            self._report(0, None)
            return 0
        sent = self._send(batch)
        # A short batch is all the feed had: count the rest only while catching up.
        if len(batch) < self.options.batch_size:
            self._unpublished = len(batch)
        else:
            self._unpublished = self.store.count_after(self.position)
        self._report(self._unpublished, sent.first_occurred_at)
        self._complete(sent, stop)
        return len(batch)

    def _send(self, batch: Sequence[StoredEvent]) -> _Sent:
        producer = self._producer_or_new()
        topic = self.options.topic
        futures = []
        # The records' CreateTime is the relay's clock (a LogAppendTime topic replaces it).
        timestamp_ms = int(self._clock().timestamp() * 1000)
        for event in batch:
            record = to_record(event)
            futures.append(
                producer.send(
                    topic,
                    key=record.key,
                    value=record.value,
                    headers=record.headers,
                    timestamp_ms=timestamp_ms,
                )
            )
        return _Sent(batch[-1].global_position, batch[0].occurred_at, futures)

    def _complete(self, sent: _Sent, stop: threading.Event) -> None:
        """Wait until every record of the batch is acknowledged, then record its position."""
        stop_seen_at: float | None = None
        for future in sent.futures:
            while not future.is_done:
                with contextlib.suppress(Exception):  # failures are looked at below
                    future.get(timeout=1.0)
                if future.is_done:
                    break
                # The broker is slow, paused or away: keep the leadership, report, honour a stop.
                self.leadership.confirm()
                with contextlib.suppress(DBAPIError):
                    self._unpublished = self.store.count_after(self.position)
                self._report(self._unpublished, sent.first_occurred_at, waiting_for_broker=True)
                if stop.is_set():
                    stop_seen_at = stop_seen_at or time.monotonic()
                    if time.monotonic() - stop_seen_at > self.options.stop_grace_seconds:
                        raise PublishFailed("stopping before the broker acknowledged the batch")
        failed = [future for future in sent.futures if future.failed()]
        refused = [f for f in failed if _timestamp_refused(f.exception)]
        if refused:
            raise TimestampRefused(
                f"{len(refused)} of {len(sent.futures)} records refused for their timestamp: "
                f"{refused[0].exception!r}"
            )
        if failed:
            raise PublishFailed(
                f"{len(failed)} of {len(sent.futures)} records failed: {failed[0].exception!r}"
            )
        self.leadership.record(sent.last_position)
        self.position = sent.last_position
        self.metrics.position.set(self.position)
        self.metrics.published.inc(len(sent.futures))
        self._log.debug("relay.published", events=len(sent.futures), position=self.position)

    def _producer_or_new(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def _close_producer(self, timeout: float) -> None:
        if self._producer is None:
            return
        producer, self._producer = self._producer, None
        try:
            producer.close(timeout=timeout)
        except Exception as error:  # noqa: BLE001 - closing must never stop the relay
            self._log.warning("relay.producer_close_failed", error=repr(error))

    # ---- lag --------------------------------------------------------------------------------

    def _report(
        self,
        unpublished: int,
        oldest_unpublished_at: datetime | None,
        waiting_for_broker: bool = False,
    ) -> None:
        lag = measure_lag(unpublished, oldest_unpublished_at, self._clock())
        self.metrics.lag_events.set(lag.events)
        self.metrics.lag_seconds.set(lag.seconds)
        now = time.monotonic()
        every = self.options.lag_log_seconds
        if waiting_for_broker:
            every = min(every, 5.0)
        if now - self._lag_logged_at >= every:
            self._lag_logged_at = now
            self._log.info(
                "relay.lag",
                lag_events=lag.events,
                lag_seconds=round(lag.seconds, 3),
                position=self.position,
                waiting_for_broker=waiting_for_broker,
            )
