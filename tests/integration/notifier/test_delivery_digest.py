"""Digest mode and the scheduler's tick, against a real SMTP server."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from services.notifier.alerts import evaluate
from services.notifier.delivery import dispatch_due, send_digests
from services.notifier.scheduler import tick
from services.notifier.settings import NotifierSettings
from shared.sql import begin_write
from tests.integration.notifier.alerts_world import NOW, PAYEE, NotifierWorld
from tests.support.receivers import SmtpServer, running_smtp_server

SUBMITTED = date(2026, 3, 2)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


def settings_for(smtp: SmtpServer, **overrides: object) -> NotifierSettings:
    base = NotifierSettings(database_url="sqlite://", smtp_port=smtp.port, delivery_jitter=0.0)
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def digest_world(engine: Engine) -> NotifierWorld:
    """The charity takes a daily digest; three open alerts concern it, one only the payer."""
    world = NotifierWorld(engine)
    world.setup(budget_pence=50_000)
    world.subscribe(PAYEE, "email", "office@hope.example", digest=True)
    first = world.submit(SUBMITTED, 20_000)
    world.approve(first, date(2026, 3, 5))
    second = world.submit(SUBMITTED + timedelta(days=1), 21_000)
    world.approve(second, date(2026, 3, 6))
    world.submit(date(2026, 4, 10), 5_000)  # approval due soon: the payer's approvers only
    with begin_write(engine) as connection:
        raised = evaluate(connection, date(2026, 4, 16), NOW)
    assert sorted(a.kind for a in raised) == [
        "approval_due_soon",
        "budget_threshold",
        "payment_overdue",
        "payment_overdue",
    ]
    return world


def test_one_digest_per_recipient_per_day(notifier_engine: Engine, smtp_server: SmtpServer) -> None:
    world = digest_world(notifier_engine)
    settings = settings_for(smtp_server)
    # Per-alert emails go to the payer's people only: the charity waits for its digest.
    dispatch_due(notifier_engine, NOW, settings)
    per_alert = {r.rcpt_tos[0] for r in smtp_server.inbox.accepted}
    assert per_alert == {"fin@icb.example", "olu@icb.example"}
    smtp_server.inbox.offered.clear()

    report = send_digests(notifier_engine, date(2026, 4, 16), NOW, settings)
    assert report.queued == 3
    digests = {r.rcpt_tos[0]: r.message for r in smtp_server.inbox.accepted}
    assert set(digests) == {"amina@hope.example", "sam@hope.example", "office@hope.example"}
    for message in digests.values():
        assert message["Subject"] == "[Bridges] Daily digest for 16 Apr 2026: 3 open items"
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert text.count("Payment overdue: Hope Street Community Trust") == 2
        assert "Budget 80% reached" in text
        assert "Approval due soon" not in text

    again = send_digests(notifier_engine, date(2026, 4, 16), NOW + timedelta(hours=3), settings)
    assert again.queued == 0 and again.dispatched.sent == 0
    assert len(smtp_server.inbox.accepted) == 3

    # A new day, a new digest; the message id differs by day.
    tomorrow = send_digests(notifier_engine, date(2026, 4, 17), NOW + timedelta(days=1), settings)
    assert tomorrow.queued == 3
    ids = {r.message["Message-ID"] for r in smtp_server.inbox.accepted}
    assert len(ids) == 6
    digests_rows = [d for d in world.delivery_rows() if d.alert_id is None]
    assert len(digests_rows) == 6 and all(d.status == "sent" for d in digests_rows)


def test_no_digest_without_open_items(notifier_engine: Engine, smtp_server: SmtpServer) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    world.subscribe(PAYEE, "email", "office@hope.example", digest=True)
    report = send_digests(notifier_engine, date(2026, 4, 16), NOW, settings_for(smtp_server))
    assert report.queued == 0 and smtp_server.inbox.offered == []


def test_tick_evaluates_sends_and_digests_after_the_hour(
    notifier_engine: Engine, smtp_server: SmtpServer
) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    world.subscribe(PAYEE, "email", "office@hope.example", digest=True)
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    settings = settings_for(smtp_server, digest_hour=7)
    # 05:30 UTC on 2 Apr is 06:30 in London (BST): evaluate and send, no digest yet.
    early = datetime(2026, 4, 2, 5, 30, tzinfo=UTC)
    report = tick(notifier_engine, early, settings)
    assert report.as_of == date(2026, 4, 2)
    assert [(a.kind, a.level) for a in report.raised] == [("payment_overdue", "d+1")]
    assert report.digests is None
    assert report.dispatched.sent == 1  # the ICB's finance officer
    # 07:00 London: the digest goes out, once.
    later = datetime(2026, 4, 2, 6, 0, tzinfo=UTC)
    report = tick(notifier_engine, later, settings)
    assert report.raised == [] and report.digests is not None
    assert report.digests.queued == 3
    assert report.to_json()["digests_queued"] == 3
    assert tick(notifier_engine, later + timedelta(minutes=1), settings).digests.queued == 0  # type: ignore[union-attr]
    # Paid: the tick resolves the reminder.
    world.pay(claim, date(2026, 4, 3))
    report = tick(notifier_engine, datetime(2026, 4, 3, 9, 0, tzinfo=UTC), settings)
    assert report.resolved == 1
    assert world.count_alerts(status="open") == 0
