"""Delivery of alerts (and statements): email over SMTP, signed webhooks, daily digests.

Deliveries are queued as rows (in the transaction that raised the alert) and sent by the
dispatcher, which retries with backoff; every attempt is recorded.
"""

from __future__ import annotations

from .digest import DigestReport, send_digests
from .dispatcher import DispatchCounts, dispatch_due
from .queue import EMAIL, WEBHOOK, message_id, queue_delivery
from .subscriptions import (
    InvalidSubscription,
    Subscription,
    active_subscriptions,
    create_subscription,
    generate_secret,
)
from .urls import WebhookUrlRefused, validate_webhook_url

__all__ = [
    "EMAIL",
    "WEBHOOK",
    "DigestReport",
    "DispatchCounts",
    "InvalidSubscription",
    "Subscription",
    "WebhookUrlRefused",
    "active_subscriptions",
    "create_subscription",
    "dispatch_due",
    "generate_secret",
    "message_id",
    "queue_delivery",
    "send_digests",
    "validate_webhook_url",
]
