"""Sending queued deliveries: claim, send, record, retry.

`dispatch_due` claims due deliveries in a short write transaction (PostgreSQL: `FOR UPDATE
SKIP LOCKED`; SQLite: the database's write lock) by pushing their `next_attempt_at` one lease
ahead, so a second dispatcher does not send the same delivery at the same time. It sends
outside any transaction, then records the attempt and the outcome: sent; a retry after an
exponential backoff with jitter; or failed (a permanent refusal, or attempts exhausted). A
dispatcher that dies mid-send leaves the delivery to be retried after the lease, with the
same message id: at-least-once, and receivers dedupe on the id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from services.notifier.settings import NotifierSettings
from services.notifier.store.tables import deliveries, delivery_attempts
from shared.logging import get_logger
from shared.sql import begin_write

from .. import faults, telemetry
from .email import PermanentEmailFailure, send_email
from .queue import EMAIL, FAILED, PENDING, SENT, WEBHOOK
from .subscriptions import deactivate_subscription, get_subscription
from .urls import WebhookUrlRefused
from .webhooks import send_webhook

log = get_logger("notifier.delivery")
# Never retry sooner than this, whatever the jitter drew.
MINIMUM_RETRY_SECONDS = 1.0


@dataclass
class DispatchCounts:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: DispatchCounts) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed

    def to_json(self) -> dict[str, int]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class ClaimedDelivery:
    id: str
    channel: str
    recipient: str
    message_id: str
    payload: dict[str, Any]
    attempts: int
    subscription_id: str | None


@dataclass(frozen=True)
class Outcome:
    sent: bool
    detail: str
    permanent: bool = False
    disable_subscription: bool = False


def backoff_seconds(attempts: int, settings: NotifierSettings, draw: float) -> float:
    """Delay before attempt `attempts + 1`: base · 2^(attempts−1), capped, minus up to
    `jitter` of itself (`draw` in [0, 1)), never under a second."""
    exponent = min(max(attempts - 1, 0), 32)
    delay = min(
        settings.delivery_backoff_cap_seconds,
        settings.delivery_backoff_base_seconds * (2.0**exponent),
    )
    delay *= 1.0 - settings.delivery_jitter * draw
    return max(MINIMUM_RETRY_SECONDS, delay)


def claim_due(
    engine: Engine, now: datetime, settings: NotifierSettings, limit: int
) -> list[ClaimedDelivery]:
    """Take up to `limit` due deliveries for this dispatcher, for one lease."""
    lease_until = now + timedelta(seconds=settings.delivery_lease_seconds)
    with begin_write(engine) as connection:
        query = (
            select(deliveries)
            .where(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = connection.execute(query).all()
        claimed = []
        for row in rows:
            taken = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == row.id,
                    deliveries.c.status == PENDING,
                    deliveries.c.next_attempt_at <= now,
                )
                .values(next_attempt_at=lease_until)
            )
            if taken.rowcount == 1:
                claimed.append(
                    ClaimedDelivery(
                        id=row.id,
                        channel=row.channel,
                        recipient=row.recipient,
                        message_id=row.message_id,
                        payload=dict(row.payload),
                        attempts=row.attempts,
                        subscription_id=row.subscription_id,
                    )
                )
    return claimed


def send_one(
    engine: Engine, delivery: ClaimedDelivery, now: datetime, settings: NotifierSettings
) -> Outcome:
    """Attempt one delivery; never raises for a delivery problem."""
    try:
        if delivery.channel == EMAIL:
            send_email(settings, delivery.recipient, delivery.message_id, delivery.payload)
            return Outcome(True, "accepted by the mail server")
        if delivery.channel == WEBHOOK:
            return _send_webhook(engine, delivery, now, settings)
        return Outcome(False, f"unknown channel {delivery.channel!r}", permanent=True)
    except PermanentEmailFailure as error:
        return Outcome(False, str(error), permanent=True)
    except WebhookUrlRefused as error:
        return Outcome(False, f"destination refused: {error}", permanent=True)
    except Exception as error:  # a network or server problem: retry later
        return Outcome(False, f"{type(error).__name__}: {error}"[:500])


def _send_webhook(
    engine: Engine, delivery: ClaimedDelivery, now: datetime, settings: NotifierSettings
) -> Outcome:
    subscription = None
    if delivery.subscription_id is not None:
        with engine.connect() as connection:
            subscription = get_subscription(connection, delivery.subscription_id)
    if subscription is None or not subscription.active:
        return Outcome(False, "the webhook subscription is no longer active", permanent=True)
    if not subscription.secret:
        return Outcome(False, "the webhook subscription has no signing secret", permanent=True)
    result = send_webhook(
        delivery.recipient,
        subscription.secret,
        delivery.message_id,
        delivery.payload,
        now,
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_loopback=settings.webhook_allow_loopback,
    )
    if result.sent:
        return Outcome(True, result.detail)
    if result.gone:
        return Outcome(
            False,
            f"{result.detail}: the endpoint is gone; subscription disabled",
            permanent=True,
            disable_subscription=True,
        )
    return Outcome(False, result.detail)


def record_outcome(
    engine: Engine,
    delivery: ClaimedDelivery,
    outcome: Outcome,
    now: datetime,
    settings: NotifierSettings,
    draw: float,
) -> str:
    """Store the attempt and the delivery's new state; returns sent, retried or failed."""
    attempts = delivery.attempts + 1
    with begin_write(engine) as connection:
        connection.execute(
            delivery_attempts.insert().values(
                delivery_id=delivery.id,
                attempted_at=now,
                outcome=SENT if outcome.sent else FAILED,
                detail=outcome.detail,
            )
        )
        values: dict[str, Any] = {"attempts": attempts}
        if outcome.sent:
            values.update(status=SENT, sent_at=now, last_error=None)
            result = "sent"
        elif outcome.permanent or attempts >= settings.delivery_max_attempts:
            values.update(status=FAILED, last_error=outcome.detail)
            result = "failed"
        else:
            delay = backoff_seconds(attempts, settings, draw)
            values.update(next_attempt_at=now + timedelta(seconds=delay), last_error=outcome.detail)
            result = "retried"
        connection.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery.id, deliveries.c.status == PENDING)
            .values(**values)
        )
        if outcome.disable_subscription and delivery.subscription_id is not None:
            deactivate_subscription(connection, delivery.subscription_id)
    telemetry.delivery_attempted(delivery.channel, result)
    correlation_id = delivery.payload.get("correlation_id")
    if result != "sent":
        log.warning(
            "delivery attempt failed",
            delivery_id=delivery.id,
            channel=delivery.channel,
            attempts=attempts,
            outcome=result,
            detail=outcome.detail,
            correlation_id=correlation_id,
        )
    else:
        get_logger("notifier.delivery").info(
            "delivery sent",
            delivery_id=delivery.id,
            channel=delivery.channel,
            attempts=attempts,
            detail=outcome.detail,
            correlation_id=correlation_id,
        )
    return result


def dispatch_due(
    engine: Engine,
    now: datetime,
    settings: NotifierSettings,
    *,
    limit: int | None = None,
    rng: random.Random | None = None,
) -> DispatchCounts:
    """Send every delivery due at `now` (at most `limit`), batch by batch."""
    source = rng or random.SystemRandom()
    counts = DispatchCounts()
    remaining = limit
    while remaining is None or remaining > 0:
        size = settings.delivery_batch_size
        if remaining is not None:
            size = min(size, remaining)
        batch = claim_due(engine, now, settings, size)
        counts.claimed += len(batch)
        for delivery in batch:
            outcome = send_one(engine, delivery, now, settings)
            faults.maybe_crash("after_send")  # sent, not yet recorded: it will be sent again
            result = record_outcome(engine, delivery, outcome, now, settings, source.random())
            setattr(counts, result, getattr(counts, result) + 1)
        if remaining is not None:
            remaining -= len(batch)
        if len(batch) < size:
            break
    return counts
