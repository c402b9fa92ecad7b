"""R2: the broker stops while VCSE staff keep submitting claims.

A client thread submits claims through the API the whole time, recording each operation as
invoke → ok | fail | unknown with its own id (the Idempotency-Key). Mid-run the broker is
paused (SIGSTOP) for 30 s, or killed (SIGKILL) and restarted on the same data. Then: every
submission answered 2xx, the relay drains its backlog, and the history oracle compares the
store with the topic read from offset 0.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from services.ledger.api.app import create_app
from shared.settings import KafkaSettings, LedgerSettings
from tests.support.claims import TODAY
from tests.support.clock import MovableClock
from tests.support.kafka import (
    check_delivery,
    ensure_broker_up,
    kafka_script,
    read_topic,
    running_relay,
)
from tests.support.world import ApiClient, World, build_world

pytestmark = pytest.mark.kafka


@dataclass
class Operation:
    op_id: str
    partnership_id: str
    outcome: str = "invoked"  # ok | fail | unknown
    status: int | None = None
    claim_id: str | None = None


@dataclass
class History:
    operations: list[Operation] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for op in self.operations if op.outcome == outcome)


def submit_until(world: World, stop: threading.Event, history: History, pace: float) -> None:
    """The client: submit claims alternately for both tenants until `stop`."""
    n = 0
    while not stop.is_set():
        tenant = (world.a, world.b)[n % 2]
        op = Operation(f"client-1-op-{n}", tenant.partnership_id)
        history.operations.append(op)
        try:
            response = world.api.post(
                "/claims",
                tenant.tokens["vcse_member"],
                world.claim_body(tenant, TODAY),
                headers={"Idempotency-Key": op.op_id},
            )
            op.status = response.status_code
            if 200 <= response.status_code < 300:
                op.outcome, op.claim_id = "ok", response.get_json()["id"]
            else:
                op.outcome = "fail"
        except Exception:  # noqa: BLE001 - an unknown outcome is part of the history
            op.outcome = "unknown"
        n += 1
        stop.wait(pace)


def run_outage(
    database_url: str,
    kafka_settings: KafkaSettings,
    fault: Callable[[Callable[[], None]], None],
    label: str,
) -> None:
    """`fault(observe)` takes the broker away, calls `observe()` while it is away, brings it
    back."""
    app = create_app(
        LedgerSettings(database_url=database_url), clock=MovableClock(TODAY), testing=True
    )
    ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, TODAY)
    history = History()
    stop_client = threading.Event()
    client = threading.Thread(
        target=submit_until, args=(world, stop_client, history, 0.02), daemon=True
    )
    with running_relay(database_url, kafka_settings, batch_size=200) as relay:
        client.start()
        try:
            time.sleep(3)
            before = len(history.operations)
            started = time.monotonic()
            lag_seen: list[float] = []
            try:
                fault(lambda: lag_seen.append(relay.metric("bridges_relay_lag_events")))
            finally:
                ensure_broker_up(kafka_settings.bootstrap_servers)
            outage = time.monotonic() - started
            during = len(history.operations) - before
            time.sleep(3)
        finally:
            stop_client.set()
            client.join(30)
        relay.wait_caught_up(timeout=120)
        drained_after = time.monotonic() - started - outage

    stored = ledger.store.read_feed(0, 1_000_000)
    stored_claims = {
        e.stream_id.removeprefix("claim-") for e in stored if e.type == "ClaimSubmitted"
    }
    ok = [op for op in history.operations if op.outcome == "ok"]
    lost_writes = [op.op_id for op in ok if op.claim_id not in stored_claims]
    records = read_topic(kafka_settings.bootstrap_servers, kafka_settings.events_topic)
    delivery = check_delivery(stored, records)
    print(
        f"\n{label}: outage {outage:.1f}s with {during} submissions during it, "
        f"lag seen during it {max(lag_seen, default=0):.0f} events, "
        f"drained {drained_after:.1f}s after; "
        f"ops={len(history.operations)} ok={len(ok)} lost={len(delivery.lost) + len(lost_writes)} "
        f"duplicated={delivery.duplicated} reordered={len(delivery.reordered)}"
    )
    assert history.count("fail") == 0 and history.count("unknown") == 0, [
        (op.op_id, op.outcome, op.status) for op in history.operations if op.outcome != "ok"
    ]
    assert during > 100, "the client kept submitting during the outage"
    assert max(lag_seen, default=0) > 0, "events waited in the store while the broker was away"
    assert not lost_writes
    assert delivery.ok, delivery


@pytest.mark.postgres
def test_broker_paused_for_30s_while_claims_keep_coming(
    postgres_url: str, kafka_settings: KafkaSettings, events_topic: str
) -> None:
    def pause(observe: Callable[[], None]) -> None:
        kafka_script("pause")
        time.sleep(30)
        observe()
        kafka_script("resume")

    run_outage(postgres_url, kafka_settings, pause, "broker paused (SIGSTOP) 30s")


def test_broker_killed_and_restarted_while_claims_keep_coming(
    sqlite_url: str, kafka_settings: KafkaSettings, events_topic: str
) -> None:
    def kill_and_restart(observe: Callable[[], None]) -> None:
        kafka_script("kill9")
        time.sleep(5)
        observe()
        kafka_script("up")

    run_outage(sqlite_url, kafka_settings, kill_and_restart, "broker killed (SIGKILL) + restarted")
