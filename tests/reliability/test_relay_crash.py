"""The relay process killed with SIGKILL mid-batch, three times, and restarted: nothing is lost,
the first deliveries stay in order per partnership, and the duplicates are counted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from services.ledger.application import Ledger
from services.ledger.store import EventStore, get_relay_position, make_engine
from shared.settings import KafkaSettings
from tests.support.claims import TODAY, build_partnerships, submit_claims
from tests.support.clock import MovableClock
from tests.support.kafka import REPO_ROOT, check_delivery, read_topic

pytestmark = pytest.mark.kafka

# Each kill comes this long after the relay recorded a batch: inside the next one (a batch of
# 50 takes ~40 ms here), after some of its records were sent and before it is recorded.
KILL_DELAYS = (0.0, 0.012, 0.025)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_relay(
    database_url: str, settings: KafkaSettings, log: Path, metrics_port: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "BRIDGES_EVENTS_TOPIC": settings.events_topic,
        "BRIDGES_RELAY_METRICS_PORT": str(metrics_port),
        "BRIDGES_RELAY_LEASE_SECONDS": "2",  # SQLite: a killed relay's lease expires soon
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "ledger", "relay", "--batch-size", "50"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen[bytes]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the relay exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_relay_killed_mid_batch_and_restarted_loses_nothing(
    database_url: str, kafka_settings: KafkaSettings, events_topic: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    ledger = Ledger(EventStore(engine), clock=MovableClock(TODAY))
    submit_claims(ledger, build_partnerships(ledger, 20), 1000)
    last = ledger.store.last_position()
    log = tmp_path / "relay.log"
    metrics_port = free_port()

    def published() -> int:
        return get_relay_position(engine, events_topic)

    started: list[subprocess.Popen[bytes]] = []

    def relay_process() -> subprocess.Popen[bytes]:
        started.append(start_relay(database_url, kafka_settings, log, metrics_port))
        return started[-1]

    try:
        kill_points = []
        for delay in KILL_DELAYS:
            relay = relay_process()
            before = published()
            wait_for(lambda: published() > before, 60, "it records progress", relay)  # noqa: B023
            time.sleep(delay)
            relay.send_signal(signal.SIGKILL)
            relay.wait(10)
            kill_points.append(published())
        assert kill_points[-1] < last, "the kills came after the relay had finished"

        relay = relay_process()
        wait_for(lambda: published() >= last, 90, "it published everything", relay)
        scrape = f"http://127.0.0.1:{metrics_port}/metrics"
        wait_for(lambda: b"bridges_relay_lag_events 0.0" in _get(scrape), 10, "lag 0", relay)
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(30) == 0, "SIGTERM stops the relay cleanly"

        delivery = check_delivery(
            ledger.store.read_feed(0, 100_000),
            read_topic(kafka_settings.bootstrap_servers, events_topic),
        )
        print(
            f"\nrelay SIGKILLed {len(KILL_DELAYS)}x at positions {kill_points} of {last}: "
            f"ops={delivery.stored} lost={len(delivery.lost)} duplicated={delivery.duplicated} "
            f"reordered={len(delivery.reordered)}"
        )
        assert delivery.ok, delivery
    except BaseException:
        print(log.read_text()[-5000:] if log.exists() else "no relay log")
        raise
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        engine.dispose()


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return bytes(response.read())
    except OSError:
        return b""
