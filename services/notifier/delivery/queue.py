"""Queueing a delivery: one row in nf_deliveries, written in the caller's transaction, with a
message id that is stable for (what, channel, recipient) so a retry or a replay keeps it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from services.notifier.store.tables import deliveries
from shared.sql import insert_for

EMAIL = "email"
WEBHOOK = "webhook"
CHANNELS = (EMAIL, WEBHOOK)

PENDING = "pending"
SENT = "sent"
FAILED = "failed"

_MESSAGES = uuid.UUID("4b1f8a36-0d7e-4c58-b0a9-6e2d3c9f7a41")


def message_id(*parts: str) -> str:
    """``msg_<uuid5>`` of the parts, e.g. (alert id, channel, recipient)."""
    return f"msg_{uuid.uuid5(_MESSAGES, '|'.join(parts))}"


def queue_delivery(
    connection: Connection,
    *,
    channel: str,
    recipient: str,
    message_id: str,
    payload: Mapping[str, Any],
    now: datetime,
    alert_id: str | None = None,
    statement_id: str | None = None,
    subscription_id: str | None = None,
) -> bool:
    """Queue one delivery, due now; False if that message id was queued before (a no-op).

    Email payloads hold ``subject``, ``text`` and ``html``; webhook payloads are the JSON body
    to POST (signed at send time with the subscription's secret).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: expected one of {', '.join(CHANNELS)}")
    result = connection.execute(
        insert_for(connection, deliveries)
        .values(
            id=str(uuid.uuid4()),
            alert_id=alert_id,
            statement_id=statement_id,
            subscription_id=subscription_id,
            channel=channel,
            recipient=recipient,
            message_id=message_id,
            payload=dict(payload),
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT's rowcount here.
        .returning(deliveries.c.id)
    )
    return result.first() is not None
