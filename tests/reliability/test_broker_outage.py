"""R2: the broker goes away while VCSE staff keep submitting claims.

A client thread submits claims through the API the whole time, recording each operation in the
oracle's history. Mid-run the run's own broker is paused (SIGSTOP) for 30 s, or killed (SIGKILL)
and kept away for 150 s — beyond the relay producer's delivery timeout (120 s), so records it
had sent expire and must be sent again — then restarted on the same data. A notifier consumes
throughout. Then: every submission answered 2xx while the broker was away, the relay drains its
backlog, and the oracle's checks 1–6 hold (store, topic from offset 0, notifier's database).
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from services.ledger.api.app import create_app
from services.ledger.relay.relay import PRODUCER_CONFIG
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.settings import KafkaSettings, LedgerSettings
from shared.sql import make_engine
from tests.reliability import oracle
from tests.reliability.clients import in_process, submit_claims_until
from tests.support.claims import TODAY
from tests.support.clock import MovableClock, clock_env
from tests.support.kafka import OwnBroker, running_relay
from tests.support.notifier_run import notifier_settled
from tests.support.processes import Service, fast_email, notifier_env, notifier_service
from tests.support.receivers import running_smtp_server
from tests.support.world import ApiClient, build_world

pytestmark = pytest.mark.kafka

SEED = int(os.environ.get("BRIDGES_RELIABILITY_SEED", "20261202"))
PAUSE_SECONDS = 30
AWAY_SECONDS = 150  # beyond the producer's delivery timeout
assert PRODUCER_CONFIG["delivery_timeout_ms"] < AWAY_SECONDS * 1000


def wait_until(condition: Callable[[], bool], timeout: float, notifier: Service) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert notifier.running, f"the notifier exited:\n{notifier.tail()}"
        assert time.monotonic() < deadline, "the notifier never caught up"
        time.sleep(0.5)


def run_outage(
    database_url: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
    fault: Callable[[Callable[[], None]], None],
    label: str,
    *,
    notifier_starts_during_outage: bool = False,
) -> None:
    """`fault(observe)` takes the broker away, calls `observe()` while it is away, brings it
    back. The notifier consumes from before the fault, or (`notifier_starts_during_outage`)
    is started while the broker is away: it must wait for it, not exit."""
    rng = random.Random(SEED)
    app = create_app(
        LedgerSettings(database_url=database_url), clock=MovableClock(TODAY), testing=True
    )
    ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, TODAY)
    history = oracle.History("r2")
    stop_client = threading.Event()
    client = threading.Thread(
        target=submit_claims_until,
        args=(world, in_process(world.api), history, stop_client),
        kwargs={"today": TODAY, "pace": 0.05, "rng": rng},
        daemon=True,
    )
    notifier_url = f"sqlite:///{tmp_path / 'notifier.db'}"
    upgrade_notifier(notifier_url)
    notifier_engine = make_engine(notifier_url)
    stack = contextlib.ExitStack()
    smtp = stack.enter_context(running_smtp_server())
    env = notifier_env(
        kafka_settings,
        notifier_url,
        keys_url=database_url,
        **clock_env(),
        **fast_email(smtp.port),
    )
    notifier = notifier_service(env, tmp_path / "notifier.log")
    lag_seen: list[float] = []

    def observe() -> None:
        lag_seen.append(relay.metric("bridges_relay_lag_events"))
        if not notifier.running:
            notifier.start()

    try:
        with running_relay(database_url, kafka_settings, batch_size=200) as relay:
            if not notifier_starts_during_outage:
                notifier.start()
                relay.wait_caught_up()
                wait_until(lambda: notifier_settled(notifier_engine, ledger.store), 60, notifier)
            client.start()
            try:
                time.sleep(3)
                before = len(history.operations)
                started = time.monotonic()
                fault(observe)
                outage = time.monotonic() - started
                during = len(history.operations) - before
                time.sleep(3)
            finally:
                stop_client.set()
                client.join(30)
            relay.wait_caught_up(timeout=180)
            drained_after = time.monotonic() - started - outage
        wait_until(lambda: notifier_settled(notifier_engine, ledger.store), 180, notifier)
        notifier.stop()
        print(
            f"\n{label}: outage {outage:.1f}s with {during} submissions during it, "
            f"lag seen during it {max(lag_seen, default=0):.0f} events, "
            f"relay drained {drained_after:.1f}s after"
        )
        verdict = oracle.check(
            history,
            ledger.store,
            seed=SEED,
            today=TODAY,
            kafka=kafka_settings,
            notifier=oracle.Notifier(notifier_engine, oracle.received_message_ids(smtp)),
            workdir=tmp_path,
            label=label,
        )
    finally:
        notifier.stop()
        notifier_engine.dispose()
        stack.close()
    verdict.assert_passed()
    assert history.count(oracle.FAIL) == 0 and history.count(oracle.UNKNOWN) == 0, [
        (op.op_id, op.outcome, op.status) for op in history.operations if op.outcome != oracle.OK
    ]
    # Submissions kept being answered 2xx throughout: in every 5 s of the outage (how many
    # depends on the machine's load, so no count is asked for).
    answered = [op.answered_at for op in history.operations if op.outcome == oracle.OK]
    windows = [started + 5 * n for n in range(int(outage // 5))]
    silent = [
        round(w - started)
        for w in windows
        if not any(at is not None and w <= at < w + 5 for at in answered)
    ]
    assert during > 0 and not silent, f"no submission answered in the 5 s from {silent} s"
    assert max(lag_seen, default=0) > 0, "events waited in the store while the broker was away"


@pytest.mark.postgres
def test_broker_paused_for_30s_while_claims_keep_coming(
    postgres_url: str,
    kafka_settings: KafkaSettings,
    events_topic: str,
    own_broker: OwnBroker,
    tmp_path: Path,
) -> None:
    def pause(observe: Callable[[], None]) -> None:
        own_broker.pause()
        try:
            time.sleep(PAUSE_SECONDS)
            observe()
        finally:
            own_broker.resume()

    run_outage(
        postgres_url, kafka_settings, tmp_path, pause, f"broker paused (SIGSTOP) {PAUSE_SECONDS}s"
    )


@pytest.mark.timeout(600)
def test_broker_away_beyond_the_delivery_timeout_while_claims_keep_coming(
    sqlite_url: str,
    kafka_settings: KafkaSettings,
    events_topic: str,
    own_broker: OwnBroker,
    tmp_path: Path,
) -> None:
    def kill_and_restart_later(observe: Callable[[], None]) -> None:
        own_broker.kill9()
        try:
            time.sleep(5)
            observe()  # the notifier starts now, with no broker to be had
            time.sleep(AWAY_SECONDS - 5)
            observe()
        finally:
            own_broker.up()

    run_outage(
        sqlite_url,
        kafka_settings,
        tmp_path,
        kill_and_restart_later,
        f"broker killed (SIGKILL), away {AWAY_SECONDS}s, restarted",
        notifier_starts_during_outage=True,
    )
