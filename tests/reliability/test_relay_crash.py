"""The relay process killed with SIGKILL mid-batch, three times, and restarted: nothing is lost,
the first deliveries stay in order per partnership, and the duplicates are counted."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from services.ledger.application import Ledger
from services.ledger.store import EventStore, get_relay_position, make_engine
from shared.settings import KafkaSettings
from tests.reliability import oracle
from tests.support.claims import TODAY, build_partnerships, submit_claims
from tests.support.clock import MovableClock
from tests.support.processes import relay_service

pytestmark = pytest.mark.kafka

# Each kill comes this long after the relay recorded a batch: inside the next one (a batch of
# 50 takes ~40 ms here), after some of its records were sent and before it is recorded.
KILL_DELAYS = (0.0, 0.012, 0.025)


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
    # Enough that the three kills come long before the relay is done (each restart publishes a
    # batch or two of 50 before its kill; checked below), not more: submitting is the slow part.
    submit_claims(ledger, build_partnerships(ledger, 20), 300)
    last = ledger.store.last_position()
    log = tmp_path / "relay.log"

    def published() -> int:
        return get_relay_position(engine, events_topic)

    service = relay_service(database_url, kafka_settings, log, batch_size=50, lease_seconds=2)
    metrics_port = int(service.env["BRIDGES_RELAY_METRICS_PORT"])

    def relay_process() -> subprocess.Popen[bytes]:
        service.start()
        assert service.process is not None
        return service.process

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

        oracle.check(
            None,
            ledger.store,
            seed="fixed kill points",
            today=TODAY,
            kafka=kafka_settings,
            label=f"relay SIGKILLed {len(KILL_DELAYS)}x at positions {kill_points} of {last}",
        ).assert_passed()
    except BaseException:
        print(log.read_text()[-5000:] if log.exists() else "no relay log")
        raise
    finally:
        service.stop(timeout=10)
        engine.dispose()


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return bytes(response.read())
    except OSError:
        return b""
