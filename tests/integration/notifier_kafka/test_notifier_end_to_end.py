"""Ledger → relay → Kafka → notifier: the read model, alerts through the notifier's API with
the ledger's tokens, statements that agree with the ledger's balances, a rebuild from the
topic that equals the live read model, and poison messages dead-lettered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import select

from services.notifier.api.app import create_app as create_notifier
from services.notifier.rebuild import clear_read_model
from services.notifier.settings import NotifierSettings
from services.notifier.store import tables
from shared.settings import KafkaSettings, kafka_client_config
from shared.sql import make_engine
from tests.integration.notifier_kafka.conftest import Consumed
from tests.reliability.oracle import read_model_differences
from tests.support.clock import TEST_TODAY, RunningClock
from tests.support.kafka import read_topic, records_per_poll
from tests.support.ledger_events import ledger_history
from tests.support.notifier_run import consume_all, snapshot

TODAY = TEST_TODAY
START = TODAY - timedelta(days=75)


def notifier_client(url: str) -> Any:
    settings = NotifierSettings(database_url=url)
    return create_notifier(settings, clock=RunningClock(), testing=True).test_client()


def test_events_flow_to_alerts_and_statements(notifier_url: str, consumed: Consumed) -> None:
    world, engine = consumed.history.world, consumed.engine

    with engine.connect() as connection:
        statuses = sorted(connection.execute(select(tables.claims.c.status)).scalars())
        kinds = set(connection.execute(select(tables.alerts.c.kind)).scalars())
    assert statuses == ["paid", "part_paid", "queried", "rejected", "submitted"]
    # Tenant B's claim was submitted yesterday; tenant A's part-paid claim is 45 days late.
    assert "payment_overdue" in kinds

    client = notifier_client(notifier_url)
    a = world.a
    vcse = {"Authorization": f"Bearer {a.tokens['vcse_member']}"}
    feed = client.get("/api/v1/alerts", headers=vcse)
    assert feed.status_code == 200, feed.get_json()
    items = feed.get_json()["items"]
    assert items and all(item["payee_id"] == a.payee_id for item in items)
    other = client.get(
        "/api/v1/alerts", headers={"Authorization": f"Bearer {world.b.tokens['vcse_member']}"}
    )
    assert {i["id"] for i in other.get_json()["items"]}.isdisjoint({i["id"] for i in items})
    ack = client.post(f"/api/v1/alerts/{items[0]['id']}/acknowledge", headers=vcse)
    assert ack.status_code == 200 and ack.get_json()["status"] == "acknowledged"
    assert (
        client.post(
            f"/api/v1/alerts/{items[0]['id']}/acknowledge",
            headers={"Authorization": f"Bearer {world.b.tokens['finance']}"},
        ).status_code
        == 404
    )

    # The statement both sides see agrees with the ledger's balance on the same day.
    path = f"/api/v1/statements/{a.partnership_id}/{a.payee_id}/{a.payer_id}"
    statement = client.get(f"{path}?as_at={TODAY.isoformat()}", headers=vcse)
    assert statement.status_code == 200, statement.get_json()
    body = statement.get_json()
    balances = world.api.ok(
        "GET",
        f"/partnerships/{a.partnership_id}/balances?as_at={TODAY.isoformat()}",
        a.tokens["partner_viewer"],
    )["organisations"][0]
    totals = body["totals"]
    assert (
        totals["open_pence"] == balances["outstanding_pence"] + balances["awaiting_approval_pence"]
    )
    assert totals["approved_outstanding_pence"] == balances["outstanding_pence"]
    assert totals["overdue_pence"] == balances["overdue_pence"]
    assert totals["open_pence"] > 0
    pdf = client.get(
        f"{path}?format=pdf", headers={"Authorization": f"Bearer {a.tokens['finance']}"}
    )
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert (
        client.get(
            path, headers={"Authorization": f"Bearer {world.b.tokens['finance']}"}
        ).status_code
        == 404
    )

    indicators = client.get(
        f"/api/v1/indicators/partnerships/{a.partnership_id}",
        headers={"Authorization": f"Bearer {a.tokens['partner_viewer']}"},
    )
    assert indicators.status_code == 200, indicators.get_json()
    assert "figures" in indicators.get_json()


def test_a_rebuild_from_the_topic_equals_the_live_read_model(
    consumed: Consumed, kafka_settings: KafkaSettings
) -> None:
    engine = consumed.engine
    live = snapshot(engine)
    with engine.connect() as connection:
        alerts_before = sorted(connection.execute(select(tables.alerts.c.id)).scalars())
    assert live["nf_claims"], "the live read model has claims"
    clear_read_model(engine)
    assert not snapshot(engine)["nf_claims"]
    consume_all(engine, kafka_settings, ledger_url=consumed.ledger_url, group="rebuild")
    assert snapshot(engine) == live
    with engine.connect() as connection:
        alerts_after = sorted(connection.execute(select(tables.alerts.c.id)).scalars())
    assert alerts_after == alerts_before, "replaying raised no alert twice"


def test_poison_messages_go_to_the_dead_letter_topic(
    sqlite_url: str,
    notifier_url: str,
    kafka_settings: KafkaSettings,
    events_topic: str,
    tmp_path: Path,
) -> None:
    """R7: malformed, truncated, unknown-type and future-version records on the topic."""
    history = ledger_history(sqlite_url, START)
    config = kafka_client_config(kafka_settings)
    producer = KafkaProducer(acks="all", **config)
    good = history.records()
    headers = dict(good[0].headers)
    poison = [
        (b"{malformed", list(headers.items())),
        (good[0].value[: len(good[0].value) // 2], list(headers.items())),
        (good[0].value, [*{**headers, "ce_type": b"uk.bridges.ledger.ClaimTeleported.v1"}.items()]),
        (
            good[0].value,
            [*{**headers, "ce_type": b"uk.bridges.ledger.OrganisationRegistered.v7"}.items()],
        ),
    ]
    for record in good[:10]:
        producer.send(events_topic, key=record.key, value=record.value, headers=record.headers)
    for value, poison_headers in poison:
        producer.send(events_topic, key=b"poison", value=value, headers=poison_headers)
    for record in good[10:]:
        producer.send(events_topic, key=record.key, value=record.value, headers=record.headers)
    producer.flush()
    producer.close()

    engine = make_engine(notifier_url)
    consumer = consume_all(engine, kafka_settings, ledger_url=sqlite_url)
    assert consumer.applied_total == len(good)
    dead = read_topic(kafka_settings.bootstrap_servers, kafka_settings.dlq_topic)
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
    assert len(dead) == 4
    assert any("not JSON" in r for r in reasons)
    assert any("unknown event type" in r for r in reasons)
    assert any("schema version" in r for r in reasons)
    assert all(dict(r.headers)["dlq_topic"] == events_topic.encode() for r in dead)
    with engine.connect() as connection:
        assert len(connection.execute(select(tables.claims.c.id)).all()) == 5
    # Oracle check 4 for the rest: a rebuild from the topic (poison and all) is the live model.
    assert read_model_differences(engine, kafka_settings, tmp_path, sqlite_url) == {}


def test_catching_up_reads_the_end_offsets_from_the_fetches_not_a_round_trip_per_poll(
    consumed: Consumed, kafka_settings: KafkaSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run(until_caught_up=True)` (a rebuild, the benchmarks) checks its lag after every
    poll: against the high-water marks the fetch responses carry, asking the broker for end
    offsets only while a partition has had no fetch answered."""
    asked: list[int] = []
    end_offsets = KafkaConsumer.end_offsets

    def counted_end_offsets(self: KafkaConsumer, partitions: Any) -> Any:
        asked.append(len(partitions))
        return end_offsets(self, partitions)

    monkeypatch.setattr(KafkaConsumer, "end_offsets", counted_end_offsets)
    polled = records_per_poll(monkeypatch)
    engine = consumed.engine
    live = snapshot(engine)
    clear_read_model(engine)
    consume_all(
        engine, kafka_settings, ledger_url=consumed.ledger_url, group="again", max_records=4
    )
    assert snapshot(engine) == live  # caught up: nothing left behind
    assert len([n for n in polled if n]) > 5 and len(asked) <= 2, (polled, asked)
