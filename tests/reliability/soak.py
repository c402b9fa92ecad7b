"""R8 and R9 (`make soak`, not in `make test`): the scaled-out deployment under random kills.

Topology (R9): two ledgers (gunicorn) and two relays on one PostgreSQL database, three notifiers
in one consumer group over the topic's six partitions (sharing one PostgreSQL read model), and a
broker of the run's own. Faults (R8): every 5–20 s (seeded) one process of a random kind —
ledger, relay, notifier or broker — is killed with SIGKILL, by the pid this run started, and
restarted; the first four kills take one of each kind, so every kind dies at least once mid-run.
Clients submit, approve and pay claims over HTTP through either ledger the whole time, retrying
an unknown outcome with the same Idempotency-Key.

Afterwards the history oracle runs all six checks (tests/reliability/oracle.py) and prints its
line; the run also samples both relays' `bridges_relay_leader` gauge and reports any instant two
published at once. Exit status 0 only if everything held.

    python -m tests.reliability.soak [--seconds N] [--seed N]   (deploy/local/soak.sh)
Env: BRIDGES_SOAK_SECONDS (600), BRIDGES_RELIABILITY_SEED, BRIDGES_TEST_POSTGRES_URL (else the
local server of deploy/local/postgres.sh).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests
from kafka.errors import KafkaError
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from services.ledger.api.app import create_app
from services.ledger.relay import ensure_topics, event_topics
from services.ledger.store import get_relay_position
from services.ledger.store import upgrade as upgrade_ledger
from services.notifier.store import tables as nf
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.settings import KafkaSettings, LedgerSettings, kafka_client_config
from shared.sql import make_engine
from tests.reliability import oracle
from tests.reliability.clients import Call, approve, over_http, pay, submit
from tests.support.claims import TODAY
from tests.support.clock import TEST_TODAY, MovableClock, clock_env
from tests.support.kafka import REPO_ROOT, OwnBroker, end_offsets
from tests.support.notifier_run import applied_and_pending, notifier_settled, stored_events
from tests.support.processes import (
    LedgerServer,
    Service,
    fast_email,
    notifier_env,
    notifier_service,
    relay_service,
)
from tests.support.receivers import running_smtp_server
from tests.support.world import ApiClient, World, build_world

KINDS = ("ledger", "relay", "notifier", "broker")


def postgres_admin_url() -> str:
    url = os.environ.get("BRIDGES_TEST_POSTGRES_URL")
    if url:
        return url
    script = REPO_ROOT / "deploy" / "local" / "postgres.sh"
    subprocess.run(["bash", str(script), "up"], check=True, capture_output=True)
    out = subprocess.run(["bash", str(script), "url"], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def scratch_database(admin_url: str, prefix: str) -> Any:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def client(
    world: World, calls: list[Call], history: oracle.History, stop: threading.Event, n: int
) -> None:
    """Submit, approve and pay claims through the ledgers in turn; unknowns retried."""
    tenant = (world.a, world.b)[n % 2]
    turn = 0
    while not stop.is_set():
        turn += 1
        call = calls[turn % len(calls)]
        submitted = submit(history, call, world, tenant, TODAY, retry_for=120)
        if submitted.outcome != oracle.OK:
            continue
        approved = approve(history, call, tenant, submitted.body, retry_for=120)
        if approved.outcome != oracle.OK or turn % 2:
            continue
        reference = f"BACS soak {n}-{turn}"
        # Dated the servers' day (their clock is the test clock's now, after the claim's
        # approval); a payment dated before it would be refused.
        paid_on = TEST_TODAY
        pay(history, call, tenant, submitted.body, 1000, paid_on, reference, retry_for=120)
        stop.wait(0.05)


def leaders(relays: list[Service]) -> int:
    """How many relays say they publish right now (their metrics endpoint)."""
    count = 0
    for relay in relays:
        if not relay.running:
            continue
        port = relay.env["BRIDGES_RELAY_METRICS_PORT"]
        with contextlib.suppress(requests.RequestException):
            body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
            count += "bridges_relay_leader 1.0" in body
    return count


def run(seconds: float, seed: int, workdir: Path) -> bool:
    rng = random.Random(seed)
    print(f"soak: {seconds:.0f}s, seed={seed}, workdir={workdir}", flush=True)
    admin_url = postgres_admin_url()
    with (
        scratch_database(admin_url, "bridges_soak_ledger") as ledger_url,
        scratch_database(admin_url, "bridges_soak_notifier") as notifier_url,
        running_smtp_server() as smtp,
    ):
        upgrade_ledger(ledger_url)
        upgrade_notifier(notifier_url)
        broker = OwnBroker(workdir / "broker").up()
        try:
            return _run(rng, seed, seconds, workdir, broker, ledger_url, notifier_url, smtp)
        finally:
            broker.down()


def _run(
    rng: random.Random,
    seed: int,
    seconds: float,
    workdir: Path,
    broker: OwnBroker,
    ledger_url: str,
    notifier_url: str,
    smtp: Any,
) -> bool:
    topic = f"soak.{uuid.uuid4().hex[:8]}"
    kafka = replace(
        KafkaSettings.from_env(),
        bootstrap_servers=broker.bootstrap,
        events_topic=f"{topic}.events",
        dlq_topic=f"{topic}.events.dlq",
    )
    ensure_topics(kafka_client_config(kafka), event_topics(kafka, partitions=6))
    settings = LedgerSettings(database_url=ledger_url, var_dir=str(workdir))
    app = create_app(settings, clock=MovableClock(TODAY), testing=True)
    ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, TODAY)
    env = {**os.environ, **clock_env(), "DATABASE_URL": ledger_url, "BRIDGES_VAR_DIR": str(workdir)}
    ledgers = [LedgerServer(env, workdir / f"ledger-{n}.log", name=f"ledger-{n}") for n in range(2)]
    relays = [
        relay_service(ledger_url, kafka, workdir / f"relay-{n}.log", name=f"relay-{n}", env=env)
        for n in range(2)
    ]
    group = f"soak-{uuid.uuid4().hex[:6]}"
    notifiers = [
        notifier_service(
            notifier_env(
                kafka,
                notifier_url,
                group,
                keys_url=ledger_url,
                **clock_env(),
                **fast_email(smtp.port),
                BRIDGES_NOTIFIER_INSTANCE_ID=f"notifier-{n}",
            ),
            workdir / f"notifier-{n}.log",
            name=f"notifier-{n}",
        )
        for n in range(3)
    ]
    services: dict[str, list[Any]] = {
        "ledger": list(ledgers),
        "relay": relays,
        "notifier": notifiers,
        "broker": [broker],
    }
    for service in [*ledgers, *relays, *notifiers]:
        service.start()
    for server in ledgers:
        server.wait_ready()
    history = oracle.History("soak")
    stop = threading.Event()
    calls = [over_http(server.base) for server in ledgers]
    clients = [
        threading.Thread(target=client, args=(world, calls, history, stop, n), daemon=True)
        for n in range(4)
    ]
    for thread in clients:
        thread.start()
    kills: Counter[str] = Counter()
    restarting: set[str] = set()
    restarters: list[threading.Thread] = []
    overlaps = samples = 0
    order = list(KINDS)
    rng.shuffle(order)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            pause_until = time.monotonic() + rng.uniform(5, 20)
            while time.monotonic() < min(pause_until, deadline):
                samples += 1
                overlaps += leaders(relays) > 1
                time.sleep(0.5)
            if time.monotonic() >= deadline:
                break
            kind = order.pop(0) if order else rng.choice(KINDS)
            victims = [v for v in services[kind] if v.name not in restarting]
            if not victims:  # every one of that kind is still coming back: later
                if not kills[kind]:
                    order.append(kind)
                continue
            victim = rng.choice(victims)
            kills[kind] += 1
            victim.kill9()
            restarting.add(victim.name)
            # Restarted in the background (a broker or a gunicorn takes seconds to come back),
            # so the faults keep their 5–20 s rhythm.
            restarter = threading.Thread(
                target=come_back, args=(victim, rng.uniform(0, 5), restarting), daemon=True
            )
            restarter.start()
            restarters.append(restarter)
            elapsed = seconds - (deadline - time.monotonic())
            print(f"soak: killed {victim.name} at {elapsed:.0f}s", flush=True)
        for restarter in restarters:
            restarter.join(300)
        stop.set()
        for thread in clients:
            thread.join(180)
        last = ledger.store.last_position()
        wait(lambda: get_relay_position(ledger.store.engine, kafka.events_topic) >= last, 300)
        notifier_engine = make_engine(notifier_url)
        settling = functools.partial(settle_state, ledger.store, notifier_engine, kafka, group)
        wait(lambda: notifier_settled(notifier_engine, ledger.store), 300, settling)
        print(f"soak: settled: {settling()}", flush=True)
        for service in [*ledgers, *relays, *notifiers]:
            service.stop()
        verdict = oracle.check(
            history,
            ledger.store,
            seed=seed,
            today=TODAY,
            kafka=kafka,
            notifier=oracle.Notifier(notifier_engine, oracle.received_message_ids(smtp)),
            workdir=workdir,
            label="soak (R8+R9)",
        )
        notifier_engine.dispose()
    finally:
        stop.set()
        for service in [*ledgers, *relays, *notifiers]:
            service.stop()
    server_errors = sum(1 for op in history.operations if (op.status or 0) >= 500)
    refused = Counter((op.kind, op.status) for op in history.operations if op.outcome == "fail")
    print(
        f"soak: kills {dict(kills)}; relay leader samples {samples}, two leaders at once "
        f"{overlaps}; 5xx answers {server_errors}; unknown left {history.count(oracle.UNKNOWN)}; "
        f"refused {dict(refused)}",
        flush=True,
    )
    if not verdict.passed:
        with contextlib.suppress(AssertionError):
            verdict.assert_passed()
        print("\n".join(f"  {what}: {details[:5]}" for what, details in verdict.problems.items()))
    return (
        verdict.passed
        and overlaps == 0
        and server_errors == 0
        and history.count(oracle.UNKNOWN) == 0
        and all(kills[kind] for kind in KINDS)
    )


def come_back(victim: Any, after: float, restarting: set[str]) -> None:
    """Restart a killed process (a broker after `after` seconds away)."""
    try:
        if isinstance(victim, OwnBroker):
            time.sleep(after)
            victim.up()
        else:
            victim.start()
            if isinstance(victim, LedgerServer):
                victim.wait_ready(180)
    finally:
        restarting.discard(victim.name)


def wait(condition: Any, timeout: float, state: Any = None) -> None:
    """Until `condition()`; every 30 s and at the timeout, `state()` (what is not settled yet)
    is printed."""
    deadline = time.monotonic() + timeout
    said = time.monotonic()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"not settled within {timeout}s" + (f": {state()}" if state is not None else "")
            )
        if state is not None and time.monotonic() - said > 30:
            print(f"soak: settling: {state()}", flush=True)
            said = time.monotonic()
        time.sleep(0.5)


def settle_state(store: Any, notifier_engine: Any, kafka: KafkaSettings, group: str) -> str:
    """What the settle condition sees: the store's events (how many, and the last position: the
    difference is positions burnt by appends that rolled back), what the notifier applied, its
    deliveries pending, and per partition the offset it stored against the topic's end."""
    try:
        with notifier_engine.connect() as connection:
            top = connection.execute(
                select(func.coalesce(func.max(nf.processed_events.c.global_position), 0))
            ).scalar_one()
            offsets = nf.consumer_offsets.c
            stored = dict(
                connection.execute(
                    select(offsets.partition, offsets.next_offset).where(
                        offsets.consumer_group == group, offsets.topic == kafka.events_topic
                    )
                ).all()
            )
        applied, pending = applied_and_pending(notifier_engine)
        ends = end_offsets(kafka.bootstrap_servers, kafka.events_topic)
    except (SQLAlchemyError, KafkaError) as error:
        return f"(could not say: {error!r})"
    return (
        f"store events={stored_events(store)} last_position={store.last_position()}; "
        f"notifier applied={applied} (up to position {top}), deliveries pending={pending}; "
        "partition: stored offset/end "
        + " ".join(f"{p}:{stored.get(p)}/{ends.get(p)}" for p in sorted(set(stored) | set(ends)))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("BRIDGES_SOAK_SECONDS", "600"))
    )
    parser.add_argument(
        "--seed", type=int, default=int(os.environ.get("BRIDGES_RELIABILITY_SEED", "20261202"))
    )
    args = parser.parse_args()
    # Kept after the run (logs of every process): <repo>/var/soak/<seed>-<run id>; a random
    # run id, not the wall clock (the soak's processes take their day from the test's clock).
    workdir = REPO_ROOT / "var" / "soak" / f"{args.seed}-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True)
    ok = run(args.seconds, args.seed, workdir)
    print("soak: PASSED" if ok else "soak: FAILED", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
