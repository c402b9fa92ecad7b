"""Signed webhooks to a real local HTTP receiver: the Standard Webhooks signature verified
independently (the `standardwebhooks` package and a re-implementation here), a 500 retried
with backoff under the same webhook-id, 410 Gone disabling the subscription, and the
destination re-checked at send time."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from standardwebhooks import Webhook

from services.notifier.alerts import evaluate
from services.notifier.delivery import dispatch_due
from services.notifier.delivery.subscriptions import Subscription
from services.notifier.settings import NotifierSettings
from services.notifier.store.tables import delivery_attempts, subscriptions
from shared.clock import real_now
from shared.sql import begin_write
from tests.integration.notifier.alerts_world import PAYEE, NotifierWorld
from tests.support.receivers import (
    SmtpServer,
    WebhookReceiver,
    running_smtp_server,
    running_webhook_receiver,
)

SUBMITTED = date(2026, 3, 2)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with running_webhook_receiver() as receiver:
        yield receiver


def settings_for(smtp: SmtpServer, **overrides: object) -> NotifierSettings:
    base = NotifierSettings(
        database_url="sqlite://",
        smtp_port=smtp.port,
        webhook_allow_loopback=True,
        webhook_timeout_seconds=5,
        delivery_backoff_base_seconds=1,
        delivery_jitter=0.0,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def verify_independently(secret: str, headers: dict[str, str], body: bytes) -> None:
    """The receiver's side of Standard Webhooks, written from the specification."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    versions = dict(part.split(",", 1) for part in headers["webhook-signature"].split(" "))
    assert hmac.compare_digest(versions["v1"], expected)


def webhook_world(engine: Engine, url: str) -> tuple[NotifierWorld, Subscription, datetime]:
    """A charity subscribed to payment alerts by webhook, and one overdue claim, evaluated
    with the real clock (receivers check the signature's timestamp against theirs)."""
    world = NotifierWorld(engine)
    world.setup(budget_pence=None)
    subscription = world.subscribe(PAYEE, "webhook", url, kinds=["payment_overdue"])
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    now = real_now().replace(microsecond=0)  # about the wall clock: the receiver's
    with begin_write(engine) as connection:
        evaluate(connection, date(2026, 4, 16), now)
    return world, subscription, now


def webhook_row(world: NotifierWorld) -> Any:
    [row] = [d for d in world.delivery_rows() if d.channel == "webhook"]
    return row


def test_a_500_is_retried_with_backoff_under_the_same_signed_id(
    notifier_engine: Engine, smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    world, subscription, now = webhook_world(notifier_engine, webhook_receiver.url)
    assert subscription.secret is not None
    webhook_receiver.plan = [500]
    settings = settings_for(smtp_server)
    first = dispatch_due(notifier_engine, now, settings)
    assert (first.sent, first.retried) == (3, 1)  # three emails, the webhook to retry
    row = webhook_row(world)
    assert (row.status, row.attempts, row.last_error) == (
        "pending",
        1,
        "HTTP 500 Internal Server Error",
    )
    assert row.next_attempt_at == now + timedelta(seconds=1)
    assert dispatch_due(notifier_engine, now, settings).claimed == 0
    second = dispatch_due(notifier_engine, now + timedelta(seconds=1), settings)
    assert second.sent == 1
    assert [hit.status for hit in webhook_receiver.hits] == [500, 200]
    ids = {hit.headers["webhook-id"] for hit in webhook_receiver.hits}
    assert ids == {row.message_id}
    stamps = [int(hit.headers["webhook-timestamp"]) for hit in webhook_receiver.hits]
    assert stamps == [int(now.timestamp()), int(now.timestamp()) + 1]
    for hit in webhook_receiver.hits:
        verify_independently(subscription.secret, hit.headers, hit.body)
        payload = Webhook(subscription.secret).verify(hit.body, hit.headers)
        assert payload["type"] == "alert.raised"
        assert payload["data"]["kind"] == "payment_overdue"
        assert payload["data"]["level"] == "d+14"
        assert payload["data"]["detail"]["open_pence"] == 23740
        assert hit.headers["content-type"] == "application/json"
        assert hit.path == "/hooks/bridges"
    assert webhook_receiver.hits[0].body == webhook_receiver.hits[1].body
    with notifier_engine.connect() as connection:
        attempts = connection.execute(
            select(delivery_attempts.c.outcome, delivery_attempts.c.detail)
            .where(delivery_attempts.c.delivery_id == row.id)
            .order_by(delivery_attempts.c.id)
        ).all()
    assert [tuple(a) for a in attempts] == [
        ("failed", "HTTP 500 Internal Server Error"),
        ("sent", "HTTP 200"),
    ]


def test_a_tampered_body_does_not_verify(
    notifier_engine: Engine, smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    world, subscription, now = webhook_world(notifier_engine, webhook_receiver.url)
    dispatch_due(notifier_engine, now, settings_for(smtp_server))
    [hit] = webhook_receiver.hits
    assert subscription.secret is not None
    tampered = hit.body.replace(b"23740", b"99999")
    try:
        Webhook(subscription.secret).verify(tampered, hit.headers)
    except Exception as error:
        assert "signature" in str(error).lower()
    else:
        raise AssertionError("a tampered body verified")


def test_410_gone_disables_the_subscription(
    notifier_engine: Engine, smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    world, subscription, now = webhook_world(notifier_engine, webhook_receiver.url)
    webhook_receiver.plan = [410]
    counts = dispatch_due(notifier_engine, now, settings_for(smtp_server))
    assert counts.failed == 1
    row = webhook_row(world)
    assert row.status == "failed" and "gone" in row.last_error
    with notifier_engine.connect() as connection:
        active = connection.execute(
            select(subscriptions.c.active).where(subscriptions.c.id == subscription.id)
        ).scalar_one()
    assert active is False
    # The next alert is not sent to the dead endpoint.
    with begin_write(notifier_engine) as connection:
        [raised] = evaluate(connection, date(2026, 4, 22), now)
    assert not [
        d for d in world.delivery_rows() if d.channel == "webhook" and d.alert_id == raised.id
    ]


def test_the_destination_is_checked_again_at_send_time(
    notifier_engine: Engine, smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    world, _, now = webhook_world(notifier_engine, webhook_receiver.url)
    # Production settings: loopback is not an acceptable destination, whatever was stored.
    counts = dispatch_due(
        notifier_engine, now, settings_for(smtp_server, webhook_allow_loopback=False)
    )
    assert counts.failed == 1
    row = webhook_row(world)
    assert row.status == "failed"
    assert "destination refused" in row.last_error and "loopback" in row.last_error
    assert webhook_receiver.hits == []
