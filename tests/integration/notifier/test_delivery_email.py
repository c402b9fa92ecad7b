"""Alert emails to a real SMTP server (aiosmtpd on 127.0.0.1): content, a stable Message-ID
across a retry, backoff, permanent refusals, attempts recorded, and two dispatchers at once."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from services.notifier.alerts import evaluate
from services.notifier.delivery import dispatch_due
from services.notifier.delivery.dispatcher import backoff_seconds
from services.notifier.settings import NotifierSettings
from services.notifier.store.tables import delivery_attempts
from shared.sql import begin_write
from tests.integration.notifier.alerts_world import NOW, NotifierWorld
from tests.support.receivers import SmtpServer, free_port, running_smtp_server

SUBMITTED = date(2026, 3, 2)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


def settings_for(port: int, **overrides: object) -> NotifierSettings:
    base = NotifierSettings(
        database_url="sqlite://",
        smtp_port=port,
        smtp_timeout_seconds=5,
        delivery_backoff_base_seconds=60,
        delivery_jitter=0.0,
        delivery_max_attempts=3,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def overdue_claim(engine: Engine) -> NotifierWorld:
    """One payment overdue alert (15 days late): three emails queued."""
    world = NotifierWorld(engine)
    world.setup(budget_pence=None)
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    with begin_write(engine) as connection:
        evaluate(connection, date(2026, 4, 16), NOW)
    return world


def attempts_of(engine: Engine, delivery_id: str) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(delivery_attempts.c.outcome)
            .where(delivery_attempts.c.delivery_id == delivery_id)
            .order_by(delivery_attempts.c.id)
        )
        return list(rows.scalars())


def test_alert_emails_arrive_with_their_stable_message_id_and_content(
    notifier_engine: Engine, smtp_server: SmtpServer
) -> None:
    world = overdue_claim(notifier_engine)
    settings = settings_for(smtp_server.port)
    counts = dispatch_due(notifier_engine, NOW, settings)
    assert counts.to_json() == {"claimed": 3, "sent": 3, "retried": 0, "failed": 0}
    received = smtp_server.inbox.accepted
    assert sorted(r.rcpt_tos[0] for r in received) == [
        "amina@hope.example",
        "fin@icb.example",
        "sam@hope.example",
    ]
    rows = {d.recipient: d for d in world.delivery_rows()}
    for item in received:
        message = item.message
        delivery = rows[item.rcpt_tos[0]]
        assert message["Message-ID"] == f"<{delivery.message_id}@bridges.localhost>"
        assert message["Subject"] == (
            "[Bridges] Payment overdue: Hope Street Community Trust — £237.40, 15 days late"
        )
        assert message["From"] == "Bridges <alerts@bridges.localhost>"
        assert message["To"] == item.rcpt_tos[0]
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        assert text is not None and html is not None
        plain = text.get_content()
        assert "Outstanding: £237.40" in plain
        assert "Payment due: 1 Apr 2026" in plain
        assert "Days overdue: 15" in plain
        assert "<h1" in html.get_content() and "£237.40" in html.get_content()
        assert delivery.status == "sent" and delivery.attempts == 1
        assert attempts_of(notifier_engine, delivery.id) == ["sent"]
    # Nothing is due any more.
    assert dispatch_due(notifier_engine, NOW + timedelta(hours=1), settings).claimed == 0


def test_a_refused_email_is_retried_with_backoff_and_the_same_message_id(
    notifier_engine: Engine, smtp_server: SmtpServer
) -> None:
    world = overdue_claim(notifier_engine)
    settings = settings_for(smtp_server.port)
    smtp_server.inbox.refuse_next_data = 1
    counts = dispatch_due(notifier_engine, NOW, settings)
    assert (counts.sent, counts.retried) == (2, 1)
    [refused] = [r for r in smtp_server.inbox.offered if not r.accepted]
    recipient = refused.rcpt_tos[0]
    [row] = [d for d in world.delivery_rows() if d.recipient == recipient]
    assert row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    assert "451" in row.last_error
    # Not due before its backoff has passed; then sent.
    assert dispatch_due(notifier_engine, NOW + timedelta(seconds=59), settings).claimed == 0
    counts = dispatch_due(notifier_engine, NOW + timedelta(seconds=60), settings)
    assert counts.sent == 1
    [retried] = [r for r in smtp_server.inbox.accepted if r.rcpt_tos[0] == recipient]
    assert retried.message["Message-ID"] == refused.message["Message-ID"]
    assert retried.message["Message-ID"] == f"<{row.message_id}@bridges.localhost>"
    assert attempts_of(notifier_engine, row.id) == ["failed", "sent"]


def test_an_unreachable_server_fails_after_the_last_attempt(notifier_engine: Engine) -> None:
    world = overdue_claim(notifier_engine)
    settings = settings_for(free_port(), delivery_max_attempts=2)
    first = dispatch_due(notifier_engine, NOW, settings)
    assert (first.claimed, first.retried) == (3, 3)
    second = dispatch_due(notifier_engine, NOW + timedelta(seconds=60), settings)
    assert (second.claimed, second.failed) == (3, 3)
    for row in world.delivery_rows():
        assert (row.status, row.attempts) == ("failed", 2)
        assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error
        assert attempts_of(notifier_engine, row.id) == ["failed", "failed"]


def test_a_permanent_refusal_is_not_retried(
    notifier_engine: Engine, smtp_server: SmtpServer
) -> None:
    world = overdue_claim(notifier_engine)
    smtp_server.inbox.unknown_recipients = {"sam@hope.example"}
    counts = dispatch_due(notifier_engine, NOW, settings_for(smtp_server.port))
    assert (counts.sent, counts.failed, counts.retried) == (2, 1, 0)
    [row] = [d for d in world.delivery_rows() if d.recipient == "sam@hope.example"]
    assert row.status == "failed" and "550" in row.last_error


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter() -> None:
    settings = NotifierSettings(
        database_url="sqlite://",
        delivery_backoff_base_seconds=30,
        delivery_backoff_cap_seconds=600,
        delivery_jitter=0.5,
    )
    assert [backoff_seconds(n, settings, 0.0) for n in range(1, 7)] == [
        30,
        60,
        120,
        240,
        480,
        600,
    ]
    assert backoff_seconds(2, settings, 0.999) > 30  # at most half taken off
    assert backoff_seconds(2, settings, 0.5) == 45


def test_two_dispatchers_at_once_send_each_email_once(
    notifier_engine: Engine, smtp_server: SmtpServer
) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    for i in range(8):
        claim = world.submit(SUBMITTED + timedelta(days=i))
        world.approve(claim, SUBMITTED + timedelta(days=i + 1))
    with begin_write(notifier_engine) as connection:
        evaluate(connection, date(2026, 4, 20), NOW)
    expected = len(world.delivery_rows())
    assert expected >= 24  # 8 reminders × 3 people, and an equity breach
    settings = settings_for(smtp_server.port, delivery_batch_size=5)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def dispatch() -> None:
        try:
            barrier.wait(timeout=10)
            dispatch_due(notifier_engine, NOW, settings)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    ids = [r.message["Message-ID"] for r in smtp_server.inbox.accepted]
    assert len(ids) == len(set(ids)) == expected
    assert all(row.status == "sent" for row in world.delivery_rows())
