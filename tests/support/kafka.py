"""Kafka for tests: the real broker, one fresh pair of topics per test, and the delivery oracle.

The broker comes from `KAFKA_BOOTSTRAP_SERVERS` if set, else `deploy/local/kafka.sh up` starts
(or finds) the local one. Nothing is skipped: if no broker can be had, the tests fail and say why.
Import the fixtures into a conftest: `from tests.support.kafka import *  # noqa: F403`.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from services.ledger.relay import Relay, RelayOptions, ensure_topics, event_topics, make_producer
from services.ledger.store import EventStore, get_relay_position, make_engine
from shared.events.envelope import StoredEvent
from shared.events.wire import to_record
from shared.settings import KafkaSettings, kafka_client_config

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = REPO_ROOT / "deploy" / "local" / "kafka.sh"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"

__all__ = [
    "kafka_bootstrap",
    "kafka_settings",
    "events_topic",
]


# --- the broker -------------------------------------------------------------------------------


def kafka_script(
    *args: str, timeout: float = 240, var_dir: Path | None = None, heap: str | None = None
) -> str:
    """Run `deploy/local/kafka.sh` (up, down, pause, resume, kill9, bootstrap, ...); fail the
    test if it fails. `var_dir`: the broker of that directory (its own data, pid file and
    ports), not the checkout's; no KAFKA_ setting of the environment leaks into it."""
    env = {**os.environ, "KAFKA_READY_TIMEOUT": os.environ.get("KAFKA_READY_TIMEOUT", "180")}
    if var_dir is not None:
        env = {
            k: v for k, v in env.items() if not k.startswith("KAFKA_") or k == "KAFKA_READY_TIMEOUT"
        }
        env.update(BRIDGES_VAR_DIR=str(var_dir), KAFKA_HEAP_OPTS="-Xmx256m -Xms256m")
    if heap is not None:
        env["KAFKA_HEAP_OPTS"] = heap
    result = subprocess.run(
        ["bash", str(KAFKA_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        # A restart after SIGKILL recovers every partition: give a loaded machine time.
        env=env,
    )
    if result.returncode != 0:
        raise BrokerScriptFailed(
            f"kafka.sh {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


class BrokerScriptFailed(Exception):
    """`deploy/local/kafka.sh` failed (its output is the message)."""


def wait_for_broker(bootstrap: str, timeout: float = 60) -> None:
    """Until a metadata request to the broker succeeds."""
    deadline = time.monotonic() + timeout
    problem: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
            try:
                admin.list_topics()
                return
            finally:
                admin.close()
        except (KafkaError, OSError) as error:
            problem = error
            time.sleep(0.5)
    raise AssertionError(f"Kafka at {bootstrap} did not answer within {timeout}s: {problem}")


class OwnBroker:
    """A broker of the test's own (fault runs stop, pause and kill it; never the shared one):
    `deploy/local/kafka.sh` with its own var dir, so its own data, ports and pid file. Faults
    are signals to the pid it started, and nothing else."""

    name = "broker"

    def __init__(self, var_dir: Path, heap: str = "-Xmx320m -Xms320m") -> None:
        self.var_dir = var_dir
        self._heap = heap
        self.bootstrap = ""

    def _script(self, *args: str) -> str:
        return kafka_script(*args, var_dir=self.var_dir, heap=self._heap)

    def up(self) -> OwnBroker:
        """Start it (or resume it, or restart it after a kill) and wait until it answers."""
        self._script("up")
        self.bootstrap = self._script("bootstrap").strip().splitlines()[-1]
        wait_for_broker(self.bootstrap, timeout=120)
        return self

    @property
    def pid(self) -> int:
        return int((self.var_dir / "kafka" / "kafka.pid").read_text().strip())

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill9(self) -> None:
        pid = self.pid
        os.kill(pid, signal.SIGCONT)  # a paused broker dies too
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                    break  # dead, not yet reaped
            except FileNotFoundError:
                break
            time.sleep(0.1)

    def down(self) -> None:
        self._script("down")


@functools.cache
def environment_broker() -> str:
    """host:port of the environment's broker (`KAFKA_BOOTSTRAP_SERVERS`, else this checkout's,
    started if need be); the test fails if none answers."""
    bootstrap = os.environ.get(BOOTSTRAP_ENV)
    try:
        if not bootstrap:
            kafka_script("up")
            bootstrap = kafka_script("bootstrap").strip().splitlines()[-1]
        wait_for_broker(bootstrap)
    except (BrokerScriptFailed, AssertionError) as error:
        pytest.fail(str(error), pytrace=False)
    return bootstrap


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """host:port of a running broker."""
    return environment_broker()


# --- topics -----------------------------------------------------------------------------------


@pytest.fixture
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    """The environment's Kafka settings with per-test topic names (tests never share records)."""
    unique = f"test.{uuid.uuid4().hex[:12]}"
    return replace(
        KafkaSettings.from_env(),
        bootstrap_servers=kafka_bootstrap,
        events_topic=f"{unique}.events",
        dlq_topic=f"{unique}.events.dlq",
    )


@pytest.fixture
def events_topic(kafka_settings: KafkaSettings) -> Iterator[str]:
    """The test's events topic (and dead-letter topic), created as `bridges kafka init` does."""
    config = kafka_client_config(kafka_settings)
    ensure_topics(config, event_topics(kafka_settings, partitions=6))
    yield kafka_settings.events_topic
    try:
        admin = KafkaAdminClient(**config)
        try:
            admin.delete_topics([kafka_settings.events_topic, kafka_settings.dlq_topic])
        finally:
            admin.close()
    except KafkaError:
        pass  # best effort: a broker left unhealthy by a failed test is reported elsewhere


def read_topic(bootstrap: str, topic: str, timeout: float = 60) -> list[Any]:
    """Every record of the topic, from offset 0 to the end, with a plain KafkaConsumer (no
    group); per partition in offset order."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
    )
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: dict[int, list[Any]] = defaultdict(list)
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end within {timeout}s")
            for tp, batch in consumer.poll(timeout_ms=500, max_records=5000).items():
                records[tp.partition].extend(batch)
        return [record for p in sorted(records) for record in records[p]]
    finally:
        consumer.close()


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Each partition's end offset (no group; a missing topic has none)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return {tp.partition: end for tp, end in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def topic_size(bootstrap: str, topic: str) -> int:
    """How many records the topic holds (sum of end offsets)."""
    return sum(end_offsets(bootstrap, topic).values())


# --- a relay in a thread -----------------------------------------------------------------------


class RelayThread:
    """A `Relay` on its own engine, run in a daemon thread until `stop()`."""

    def __init__(
        self,
        database_url: str,
        settings: KafkaSettings,
        clock: Callable[[], datetime] | None = None,
        **options: Any,
    ) -> None:
        self.engine = make_engine(database_url)
        self.store = EventStore(self.engine)
        self.relay = Relay(
            self.store,
            lambda: make_producer(settings),
            RelayOptions(topic=settings.events_topic, **options),
            clock=clock,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relay", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.relay.run(self._stop)
        except BaseException as error:  # noqa: BLE001 - reported by stop()
            self.error = error

    def start(self) -> RelayThread:
        self._thread.start()
        return self

    def metric(self, name: str) -> float:
        value = self.relay.metrics.registry.get_sample_value(name)
        return 0.0 if value is None else value

    @property
    def leading(self) -> bool:
        return self.metric("bridges_relay_leader") == 1

    @property
    def published(self) -> int:
        return int(self.metric("bridges_relay_published_events_total"))

    def wait_until(self, condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.error is not None:
                raise AssertionError(f"the relay failed: {self.error!r}") from self.error
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting until {what}")
            time.sleep(0.05)

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Until the relay has published everything stored so far."""
        last = self.store.last_position()
        self.wait_until(
            lambda: get_relay_position(self.engine, self.relay.options.progress_name) >= last,
            timeout,
            f"the relay published up to position {last}",
        )

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._thread.join(timeout)
        alive = self._thread.is_alive()
        self.engine.dispose()
        assert not alive, f"the relay did not stop within {timeout}s"
        if self.error is not None:
            raise AssertionError(f"the relay failed: {self.error!r}") from self.error


@contextmanager
def running_relay(
    database_url: str,
    settings: KafkaSettings,
    clock: Callable[[], datetime] | None = None,
    **options: Any,
) -> Iterator[RelayThread]:
    relay = RelayThread(database_url, settings, clock, **options).start()
    try:
        yield relay
    finally:
        relay.stop()


# --- the oracle: every stored event on the topic at least once, in order per key --------------


@dataclass
class Delivery:
    """What the topic holds compared with the store."""

    stored: int
    records: int
    lost: list[str] = field(default_factory=list)
    duplicated: int = 0
    reordered: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # on the topic, not in the store
    mismatched: list[str] = field(default_factory=list)  # key, value or headers differ
    split_keys: list[str] = field(default_factory=list)  # a key on two partitions

    @property
    def ok(self) -> bool:
        return not (
            self.lost or self.reordered or self.unexpected or self.mismatched or self.split_keys
        )

    def summary(self) -> str:
        return (
            f"stored={self.stored} records={self.records} lost={len(self.lost)} "
            f"duplicated={self.duplicated} reordered={len(self.reordered)} "
            f"mismatched={len(self.mismatched)} unexpected={len(self.unexpected)}"
        )


def check_delivery(stored: Sequence[StoredEvent], records: Iterable[Any]) -> Delivery:
    """Compare the store's feed with the topic's records (read in offset order per partition).

    Each record must be exactly `to_record(event)` of a stored event; every stored event must be
    there at least once; per key, the first deliveries must follow the store's order: `stored`
    is the feed (`read_feed`), in its order."""
    by_id = {str(event.event_id): event for event in stored}
    feed_place = {str(event.event_id): place for place, event in enumerate(stored)}
    expected = {event_id: to_record(event) for event_id, event in by_id.items()}
    records = list(records)
    report = Delivery(stored=len(stored), records=len(records))
    seen: set[str] = set()
    partitions_of_key: dict[bytes, set[int]] = defaultdict(set)
    last_first_delivery: dict[bytes, int] = {}
    for record in records:
        headers = dict(record.headers)
        event_id = headers.get("ce_id", b"").decode()
        partitions_of_key[record.key].add(record.partition)
        if event_id not in by_id:
            report.unexpected.append(event_id)
            continue
        want = expected[event_id]
        got = (record.key, record.value, list(record.headers))
        if got != (want.key, want.value, want.headers):
            report.mismatched.append(event_id)
        if event_id in seen:
            report.duplicated += 1
            continue
        seen.add(event_id)
        place = feed_place[event_id]  # the feed's order, not the position's (event_store.py)
        if place < last_first_delivery.get(record.key, -1):
            report.reordered.append(event_id)
        last_first_delivery[record.key] = max(place, last_first_delivery.get(record.key, -1))
    report.lost = [event_id for event_id in by_id if event_id not in seen]
    report.split_keys = [k.decode() for k, parts in partitions_of_key.items() if len(parts) > 1]
    return report


# --- watching the real consumer's calls -------------------------------------------------------


def records_per_poll(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records each `KafkaConsumer.poll` returned, while the test runs (the real
    poll is called; this only counts what it gave)."""
    polled: list[int] = []
    poll = KafkaConsumer.poll

    def counted(self: KafkaConsumer, *args: Any, **kwargs: Any) -> Any:
        batches = poll(self, *args, **kwargs)
        polled.append(sum(len(records) for records in batches.values()))
        return batches

    monkeypatch.setattr(KafkaConsumer, "poll", counted)
    return polled
