"""Relay throughput: stored events published per second by the outbox relay, against a bare
kafka-python producer sending the same records with the same producer settings (acks=all,
idempotent) in the same run.

Setup (not timed): a fresh SQLite (or `--database-url`) ledger database holding `--events`
ClaimSubmitted events copied from real ones (20 partnerships, so 20 keys), and fresh 6-partition
topics on the broker at KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092; `make bench` starts it).
Timed, alternately for `--rounds` rounds: the relay from position 0 until it has recorded the
last position; the bare producer from construction to a flush of all the records, precomputed.

    .venv/bin/python bench/relay_throughput.py                  # 20,000 events
    .venv/bin/python bench/relay_throughput.py --events 5000 --rounds 1
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kafka.admin import KafkaAdminClient  # noqa: E402

from services.ledger.application import Ledger  # noqa: E402
from services.ledger.relay import (  # noqa: E402
    Relay,
    RelayOptions,
    ensure_topics,
    event_topics,
    make_producer,
)
from services.ledger.store import EventStore, get_relay_position, make_engine  # noqa: E402
from services.ledger.store.migrate import upgrade  # noqa: E402
from shared.events.envelope import NewEvent  # noqa: E402
from shared.events.wire import to_record  # noqa: E402
from shared.logging import configure_logging  # noqa: E402
from shared.settings import KafkaSettings, kafka_client_config  # noqa: E402
from tests.support.claims import TODAY, build_partnerships, submit_claims  # noqa: E402
from tests.support.clock import MovableClock  # noqa: E402


def fill_store(store: EventStore, events: int) -> None:
    """`events` ClaimSubmitted events, copies of twenty real ones, in 1,000-event transactions."""
    ledger = Ledger(store, clock=MovableClock(TODAY))
    submit_claims(ledger, build_partnerships(ledger, 20), 20)
    models = [e for e in store.read_feed(0, 10_000) if e.type == "ClaimSubmitted"]
    remaining = events - store.last_position()
    n = 0
    while remaining > 0:
        with store.unit_of_work() as uow:
            for _ in range(min(1000, remaining)):
                model = models[n % len(models)]
                uow.append(
                    f"claim-{uuid.uuid4()}",
                    0,
                    [NewEvent(type=model.type, data=model.data)],
                    partition_key=model.partition_key,
                    actor=model.actor,
                )
                n += 1
                remaining -= 1


CREATED: list[str] = []


def new_topic(settings: KafkaSettings, label: str) -> KafkaSettings:
    unique = f"bench.{label}.{uuid.uuid4().hex[:8]}"
    topics = dataclasses.replace(settings, events_topic=unique, dlq_topic=f"{unique}.dlq")
    ensure_topics(kafka_client_config(topics), event_topics(topics, partitions=6))
    CREATED.extend([topics.events_topic, topics.dlq_topic])
    return topics


def delete_topics(settings: KafkaSettings) -> None:
    """The bench's topics go when it ends: a broker with many dead topics restarts slowly."""
    if CREATED:
        admin = KafkaAdminClient(**kafka_client_config(settings))
        try:
            admin.delete_topics(CREATED)
        finally:
            admin.close()


def time_relay(url: str, settings: KafkaSettings, batch_size: int) -> float:
    engine = make_engine(url)
    store = EventStore(engine)
    last = store.last_position()
    topics = new_topic(settings, "relay")
    relay = Relay(
        store,
        lambda: make_producer(topics),
        RelayOptions(topic=topics.events_topic, batch_size=batch_size, poll_interval=0.01),
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    started = time.perf_counter()
    thread.start()
    while get_relay_position(engine, topics.events_topic) < last:
        time.sleep(0.002)
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    engine.dispose()
    return elapsed


def time_bare_producer(url: str, settings: KafkaSettings) -> float:
    engine = make_engine(url)
    records = [to_record(e) for e in EventStore(engine).read_feed(0, 10_000_000)]
    engine.dispose()
    topics = new_topic(settings, "bare")
    started = time.perf_counter()
    producer = make_producer(topics)
    for record in records:
        producer.send(
            topics.events_topic, key=record.key, value=record.value, headers=record.headers
        )
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    settings = KafkaSettings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/ledger.db"
        upgrade(url)
        engine = make_engine(url)
        store = EventStore(engine)
        if store.last_position() < args.events:
            fill_store(store, args.events)
        events = store.last_position()
        engine.dispose()
        print(
            f"relay throughput: {events} events, batch {args.batch_size}, broker "
            f"{settings.bootstrap_servers}, database {url.split(':')[0]}"
        )
        configure_logging("info")
        logging.getLogger("kafka").setLevel(logging.WARNING)
        relay_times, bare_times = [], []
        try:
            for round_ in range(1, args.rounds + 1):
                bare_times.append(time_bare_producer(url, settings))
                relay_times.append(time_relay(url, settings, args.batch_size))
                print(
                    f"  round {round_}: bare producer {events / bare_times[-1]:,.0f} events/s, "
                    f"relay {events / relay_times[-1]:,.0f} events/s"
                )
        finally:
            delete_topics(settings)
    relay_rate, bare_rate = events / min(relay_times), events / min(bare_times)
    print(f"relay           {relay_rate:,.0f} events/s (best of {args.rounds})")
    print(f"bare producer   {bare_rate:,.0f} events/s (baseline, same records and settings)")
    print(f"ratio relay/bare = {relay_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
