"""Real ledger events for notifier tests: a small partnership's history built through the
ledger's own application service (so the events are exactly what the ledger writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.ledger.api.app import create_app
from shared.events.envelope import StoredEvent
from shared.events.wire import KafkaRecord, to_record
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, World, build_world


@dataclass
class LedgerHistory:
    world: World
    clock: MovableClock
    events: list[StoredEvent]

    def records(self) -> list[KafkaRecord]:
        return [to_record(event) for event in self.events]

    def refresh(self) -> None:
        self.events = self.world.ledger.store.read_feed(0, 1_000_000)


def ledger_history(ledger_url: str, start: date) -> LedgerHistory:
    """Two tenants; in tenant A a claim paid late, one part-paid, one queried and one
    rejected, over two months."""
    clock = MovableClock(start)
    app = create_app(LedgerSettings(database_url=ledger_url), clock=clock, testing=True)
    world = build_world(ApiClient(app.test_client()), app.extensions["bridges.ledger"], start)
    a = world.a
    late = world.submit(a, start)
    part = world.submit(a, start)
    queried = world.submit(a, start)
    rejected = world.submit(a, start)
    clock.advance(2)
    late = world.act(a, late, "approve", "approver")
    part = world.act(a, part, "approve", "approver", {"amount_pence": 9000, "reason": "Receipts"})
    world.act(a, queried, "query", "approver", {"question": "Which ward?"})
    world.act(a, rejected, "reject", "approver", {"reason": "Outside the programme"})
    clock.advance(40)
    world.pay(a, late, late["amount_pence"], clock.today())
    world.pay(a, part, 4000, clock.today())
    world.submit(world.b, clock.today() - timedelta(days=1))
    history = LedgerHistory(world, clock, [])
    history.refresh()
    return history


@dataclass
class FakeRecord:
    """What a KafkaConsumer hands over, for tests of the batch logic without a broker."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


def fake_records(
    records: list[KafkaRecord], topic: str = "t", partitions: int = 3
) -> list[FakeRecord]:
    offsets = [0] * partitions
    out = []
    for record in records:
        partition = hash(record.key) % partitions
        out.append(
            FakeRecord(
                topic, partition, offsets[partition], record.key, record.value, record.headers
            )
        )
        offsets[partition] += 1
    return out
