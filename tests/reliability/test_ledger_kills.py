"""R1: the ledger's whole gunicorn process group is killed with SIGKILL every 10–20 s while
clients submit and approve claims over HTTP, and restarted at once.

Each client operation is recorded in the oracle's history under its own id, sent as the
`Idempotency-Key`; an operation whose answer was lost (the connection died with the server) is
retried with the same key until it gets one. Then the oracle's checks 1–3 and 5 hold: every
acknowledged operation is stored exactly once (never a second claim for one key), every retry
got the original answer (the answer names the events the store holds for that key), no retried
key was kept waiting ("in flight") after a restart — the key's record lives in the command's own
transaction (services/ledger/store/idempotency.py), so a killed command leaves nothing to wait
for — and the relay published everything in order. No answer was a 5xx.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest

from services.ledger.api.app import create_app
from shared.settings import KafkaSettings, LedgerSettings
from tests.reliability import oracle
from tests.reliability.clients import Call, approve, over_http, submit
from tests.support.claims import TODAY
from tests.support.clock import MovableClock, clock_env
from tests.support.kafka import running_relay
from tests.support.processes import LedgerServer
from tests.support.world import ApiClient, World, build_world

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SEED = int(os.environ.get("BRIDGES_RELIABILITY_SEED", "20261202"))
SECONDS = float(os.environ.get("BRIDGES_R1_SECONDS", "45"))
CLIENTS = 4
RETRY_FOR = 90.0  # a client retries an unknown outcome this long (restarts take seconds)


def client(
    world: World, call: Call, history: oracle.History, stop: threading.Event, n: int
) -> None:
    """Submit a claim, then approve it, until `stop`; every unknown retried with its key."""
    tenant = (world.a, world.b)[n % 2]
    while not stop.is_set():
        submitted = submit(history, call, world, tenant, TODAY, retry_for=RETRY_FOR)
        if submitted.outcome == oracle.OK:
            approve(history, call, tenant, submitted.body, retry_for=RETRY_FOR)


def test_ledger_killed_every_10_to_20s_loses_and_repeats_nothing(
    postgres_url: str, kafka_settings: KafkaSettings, events_topic: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    settings = LedgerSettings(database_url=postgres_url, var_dir=str(tmp_path))
    app = create_app(settings, clock=MovableClock(TODAY), testing=True)
    ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, TODAY)
    env = {
        **os.environ,
        **clock_env(),
        "DATABASE_URL": postgres_url,
        "BRIDGES_VAR_DIR": str(tmp_path),  # the same token key as the world's tokens
    }
    server = LedgerServer(env, tmp_path / "ledger.log")
    server.start().wait_ready()
    history = oracle.History("r1")
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=client, args=(world, over_http(server.base), history, stop, n), daemon=True
        )
        for n in range(CLIENTS)
    ]
    downtime: list[float] = []
    kills: list[float] = []
    try:
        with running_relay(postgres_url, kafka_settings, batch_size=200) as relay:
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:
                time.sleep(min(rng.uniform(10, 20), max(0.0, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    break
                server.kill9()
                killed = time.monotonic()
                kills.append(killed)
                server.start().wait_ready()
                downtime.append(time.monotonic() - killed)
            stop.set()
            for thread in threads:
                thread.join(RETRY_FOR + 30)
            relay.wait_caught_up(timeout=120)
        verdict = oracle.check(
            history,
            ledger.store,
            seed=SEED,
            today=TODAY,
            kafka=kafka_settings,
            label=f"ledger SIGKILLed {server.kills}x",
        )
    except BaseException:
        print(server.tail())
        raise
    finally:
        server.stop()
    retried = [op for op in history.operations if op.attempts > 1]
    replayed = [op for op in retried if op.replayed]
    server_errors = [(op.op_id, op.status) for op in history.operations if (op.status or 0) >= 500]
    waits = sorted(op.waited_in_flight for op in retried)
    print(
        f"kills={server.kills} restart={max(downtime, default=0):.1f}s max "
        f"retried={len(retried)} original_answer_replayed={len(replayed)} "
        f"longest_in_flight_wait={waits[-1] if waits else 0:.1f}s"
    )
    verdict.assert_passed()
    assert server.kills >= max(1, int(SECONDS // 20)), "the run killed the ledger"
    assert retried, "some answers were lost to the kills and retried"
    assert not server_errors, server_errors
    assert history.count(oracle.UNKNOWN) == 0, "every retried operation got an answer"

    # A retry told "in flight" (409) after a kill, when no attempt of its key sent since that
    # kill was left running (a read timeout), is waiting for a command that was killed: its key
    # must be free at once. (An attempt the client gave up on while the live server still ran
    # it makes a 409 right.)
    def waits_for_a_killed_command(op: oracle.Operation, asked: float) -> bool:
        kill = max((k for k in kills if k < asked), default=None)
        return (
            kill is not None
            and op.invoked_at < kill
            and not any(kill < sent < asked for sent in op.timed_out_sent_at)
        )

    blocked = [
        op.op_id
        for op in retried
        for asked in op.in_flight_sent_at
        if waits_for_a_killed_command(op, asked)
    ]
    assert not blocked, f"retried keys waited for a killed command: {blocked}"
