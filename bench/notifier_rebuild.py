"""P5: the notifier's read-model rebuild (`bridges notifier rebuild`, a process of its own) from
a topic of `--events` events, in events/s against a bare kafka-python consumer reading the same
topic in the same run (goal >= 0.5), and the rebuild process's peak RSS (goal <= 200 MB).

Setup (not timed): real-shaped events (per claim a ClaimSubmitted, a ClaimApproved and a
PaymentRecorded over 20 partnerships, as bench/notifier_consume.py makes them), produced in
chunks straight to a fresh 6-partition topic with a bare producer, so the bench never holds
them all in memory.

    .venv/bin/python bench/notifier_rebuild.py                 # 1,000,000 events
    .venv/bin/python bench/notifier_rebuild.py --events 30000
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _results import record  # noqa: E402
from kafka import KafkaProducer  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402
from notifier_consume import bare, events  # noqa: E402

from shared.events.wire import to_record  # noqa: E402

BRIDGES = str(Path(sys.executable).with_name("bridges"))
CHUNK = 30_000


def produce(bootstrap: str, topic: str, total: int) -> float:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 6, 1), NewTopic(f"{topic}.dlq", 1, 1)])
    admin.close()
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=20, batch_size=256 * 1024
    )
    started = time.perf_counter()
    sent = 0
    while sent < total:
        for event in events(min(CHUNK, total - sent)):
            sent += 1
            record_ = to_record(dataclasses.replace(event, global_position=sent))
            producer.send(topic, key=record_.key, value=record_.value, headers=record_.headers)
        producer.flush()
    producer.close()
    return sent / (time.perf_counter() - started)


def rebuild(bootstrap: str, topic: str, url: str) -> tuple[float, float]:
    """Seconds of `bridges notifier rebuild` and its peak RSS in MB."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "BRIDGES_EVENTS_TOPIC": topic,
        "BRIDGES_DLQ_TOPIC": f"{topic}.dlq",
        "NOTIFIER_DATABASE_URL": url,
    }
    subprocess.run([BRIDGES, "notifier", "db", "upgrade"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [BRIDGES, "notifier", "rebuild", "--group", f"rebuild-{uuid.uuid4().hex[:8]}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"rebuild failed: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    total = args.events - args.events % 3
    topic = f"bench.rebuild.{uuid.uuid4().hex[:8]}"
    rate = produce(bootstrap, topic, total)
    print(f"produced {total} events to {topic} at {rate:,.0f} events/s (setup, not timed)")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'notifier.db'}"
        baseline = total / bare(bootstrap, topic, total)
        seconds, rss = rebuild(bootstrap, topic, url)
    figure = total / seconds
    print(f"bare kafka-python consumer (baseline): {baseline:,.0f} events/s")
    print(
        f"notifier rebuild: {figure:,.0f} events/s ({seconds:.1f} s), "
        f"ratio {figure / baseline:.3f} (goal >= 0.5)"
    )
    print(f"notifier rebuild peak RSS: {rss:.0f} MB (goal <= 200 MB)")
    record("P5", "rebuild events/s", figure, "events/s", baseline=baseline, events=total)
    record("P5", "rebuild peak RSS", rss, "MB", goal="<= 200", events=total)


if __name__ == "__main__":
    main()
