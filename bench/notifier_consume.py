"""P3: events per second the notifier consumes and projects (one transaction per batch with its
offsets, dedupe by event id, alert rules on the claims each batch changed), against a bare
kafka-python consumer reading the same topic and discarding, in the same run.

Setup (not timed): `--events` real-shaped events — per claim a ClaimSubmitted, a ClaimApproved
and a PaymentRecorded, over 20 partnerships — published to a fresh 6-partition topic on the
broker at KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092; `make bench` starts it). Each timed
run reads the whole topic from offset 0 with a new consumer group.

    .venv/bin/python bench/notifier_consume.py                   # 30,000 events
    .venv/bin/python bench/notifier_consume.py --events 6000 --database-url postgresql+psycopg://…

On PostgreSQL each run has a schema of its own, made for it and dropped after it: a run that
found the previous run's processed events would skip them all as duplicates.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kafka import KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402

from services.notifier.consumer import EventConsumer  # noqa: E402
from services.notifier.runner import raise_alerts_for  # noqa: E402
from services.notifier.store.migrate import upgrade  # noqa: E402
from shared.collector import settle_collector  # noqa: E402
from shared.events.catalogue import to_data  # noqa: E402
from shared.events.envelope import StoredEvent  # noqa: E402
from shared.events.types import (  # noqa: E402
    Allocation,
    ClaimApproved,
    ClaimLine,
    ClaimSubmitted,
    PaymentRecorded,
)
from shared.events.wire import to_record  # noqa: E402
from shared.logging import configure_logging  # noqa: E402
from shared.sql import make_engine  # noqa: E402

TODAY = datetime.now(UTC).date()


def events(count: int) -> list[StoredEvent]:
    stored: list[StoredEvent] = []
    claims = count // 3
    for n in range(claims):
        partnership = f"partnership-{n % 20}"
        claim_id = str(uuid.uuid4())
        submitted_on = TODAY - timedelta(days=60 - n % 50)
        facts = [
            ClaimSubmitted(
                claim_id=claim_id,
                agreement_id=f"agreement-{n % 20}",
                partnership_id=partnership,
                payer_id=f"payer-{n % 20}",
                payee_id=f"payee-{n % 20}",
                submitted_by="worker",
                submitted_on=submitted_on,
                lines=(
                    ClaimLine(
                        submitted_on,
                        Decimal("3.5"),
                        "co_design",
                        "Amina",
                        "Workshop",
                        8000,
                        "half_day",
                    ),
                ),
                expenses=(),
                amount_pence=8000,
                approval_due=submitted_on + timedelta(days=7),
                payment_due=submitted_on + timedelta(days=30),
            ),
            ClaimApproved(claim_id, "approver", submitted_on + timedelta(days=2), 8000, 8000, None),
            PaymentRecorded(
                payment_id=str(uuid.uuid4()),
                partnership_id=partnership,
                payer_id=f"payer-{n % 20}",
                payee_id=f"payee-{n % 20}",
                recorded_by="finance",
                paid_on=submitted_on + timedelta(days=20 + n % 30),
                reference=f"BACS {n}",
                amount_pence=8000 if n % 4 else 4000,
                allocations=(Allocation(claim_id, 8000 if n % 4 else 4000),),
            ),
        ]
        for version, fact in enumerate(facts, start=1):
            kind, schema_version, data = to_data(fact)
            stream = f"claim-{claim_id}" if version < 3 else f"payment-{data['payment_id']}"
            stored.append(
                StoredEvent(
                    global_position=len(stored) + 1,
                    event_id=uuid.uuid4(),
                    type=kind,
                    schema_version=schema_version,
                    stream_id=stream,
                    stream_version=version if version < 3 else 1,
                    partition_key=partnership,
                    occurred_at=datetime.now(UTC),
                    actor="bench",
                    correlation_id=None,
                    causation_id=None,
                    data=data,
                )
            )
    return stored


def publish(bootstrap: str, topic: str, stored: list[StoredEvent]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 6, 1), NewTopic(f"{topic}.dlq", 1, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for event in stored:
        record = to_record(event)
        producer.send(topic, key=record.key, value=record.value, headers=record.headers)
    producer.flush()
    producer.close()


def bare(bootstrap: str, topic: str, total: int) -> float:
    started = time.perf_counter()
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
    )
    consumer.subscribe([topic])
    seen = 0
    while seen < total:
        for batch in consumer.poll(timeout_ms=500).values():
            seen += len(batch)
    consumer.close()
    return time.perf_counter() - started


def notifier(bootstrap: str, topic: str, url: str, with_alerts: bool) -> float:
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    consumer = EventConsumer(
        engine,
        topic=topic,
        dlq_topic=f"{topic}.dlq",
        kafka_config={"bootstrap_servers": bootstrap},
        group=f"notifier-{uuid.uuid4().hex[:8]}",
        after_batch=raise_alerts_for if with_alerts else None,
    )
    consumer.run(until_caught_up=True)
    consumer.close()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


@contextmanager
def fresh_database(url: str | None, folder: str, name: str) -> Iterator[str]:
    """A database no run has written: a new SQLite file, or a new schema on PostgreSQL."""
    if url is None:
        yield f"sqlite:///{folder}/{name}.db"
        return
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:9092"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    # Logs as `bridges notifier run` configures them (filtered by level), not structlog's
    # unconfigured default (every debug line rendered to the console, one per event).
    configure_logging("warning")
    stored = events(args.events)
    topic = f"bench.notifier.{uuid.uuid4().hex[:8]}"
    publish(args.bootstrap, topic, stored)
    total = len(stored)
    del stored  # the set-up's events are no process's of the timed runs
    # The collector as `bridges notifier run` leaves it once started, for both consumers.
    settle_collector()
    with tempfile.TemporaryDirectory() as tmp:
        baseline = bare(args.bootstrap, topic, total)
        with fresh_database(args.database_url, tmp, "projection") as url:
            projection = notifier(args.bootstrap, topic, url, with_alerts=False)
        with fresh_database(args.database_url, tmp, "alerts") as url:
            with_alerts = notifier(args.bootstrap, topic, url, with_alerts=True)
        baseline_again = bare(args.bootstrap, topic, total)
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap)
    admin.delete_topics([topic, f"{topic}.dlq"])  # a broker restarts slower with every topic
    admin.close()
    base = total / min(baseline, baseline_again)
    print(f"events={total} (as of {date.today().isoformat()})")
    print(f"bare kafka-python consumer     {base:10.0f} events/s  (baseline)")
    for name, seconds in (
        ("notifier, projection only", projection),
        ("notifier, projection+alerts", with_alerts),
    ):
        rate = total / seconds
        print(f"{name:30} {rate:10.0f} events/s  ratio {rate / base:.2f}")


if __name__ == "__main__":
    main()
