"""Alert subscriptions: an organisation's email addresses and webhook endpoints.

Webhook URLs are validated here, at configuration, and refused with a precise message (see
`urls.py`); each webhook gets a fresh signing secret, ``whsec_`` + base64 of 32 random bytes,
shown to the caller once on creation.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from services.notifier.rules.candidates import ALERT_KINDS
from services.notifier.store.tables import subscriptions

from .queue import CHANNELS, EMAIL, WEBHOOK
from .urls import validate_webhook_url

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
# Deliberately plain: one @, no spaces, a dot in the domain. The mail server has the last word.
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")


class InvalidSubscription(ValueError):
    """A subscription we will not store; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Subscription:
    id: str
    organisation_id: str
    created_by: str
    channel: str
    target: str
    secret: str | None
    kinds: tuple[str, ...]
    digest: bool
    statements: bool
    active: bool
    created_at: datetime

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def to_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "organisation_id": self.organisation_id,
            "created_by": self.created_by,
            "channel": self.channel,
            "target": self.target,
            "kinds": list(self.kinds),
            "digest": self.digest,
            "statements": self.statements,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
        }
        if with_secret:
            data["secret"] = self.secret
        return data


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key bytes of a ``whsec_…`` secret."""
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def subscription_from_row(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        organisation_id=row.organisation_id,
        created_by=row.created_by,
        channel=row.channel,
        target=row.target,
        secret=row.secret,
        kinds=tuple(row.kinds or ()),
        digest=bool(row.digest),
        statements=bool(row.statements),
        active=bool(row.active),
        created_at=row.created_at,
    )


def create_subscription(
    connection: Connection,
    *,
    organisation_id: str,
    created_by: str,
    channel: str,
    target: str,
    now: datetime,
    allow_loopback: bool = False,
    kinds: Iterable[str] = (),
    digest: bool = False,
    statements: bool = False,
) -> Subscription:
    """Validate and store a subscription; raise InvalidSubscription (with the field) if not.
    The returned subscription carries the webhook secret: show it once."""
    if channel not in CHANNELS:
        raise InvalidSubscription("channel", f"channel must be one of {', '.join(CHANNELS)}")
    wanted = tuple(dict.fromkeys(kinds))
    unknown = sorted(set(wanted) - ALERT_KINDS)
    if unknown:
        raise InvalidSubscription(
            "kinds", f"unknown alert kinds {unknown}: expected some of {sorted(ALERT_KINDS)}"
        )
    secret: str | None = None
    if channel == EMAIL:
        if len(target) > 320 or not _EMAIL.match(target):
            raise InvalidSubscription("target", f"{target!r} is not an email address")
    else:
        if digest:
            raise InvalidSubscription("digest", "digest mode is for email subscriptions only")
        try:
            validate_webhook_url(target, allow_loopback)
        except ValueError as error:
            raise InvalidSubscription("target", str(error)) from None
        secret = generate_secret()
    subscription = Subscription(
        id=str(uuid.uuid4()),
        organisation_id=organisation_id,
        created_by=created_by,
        channel=channel,
        target=target,
        secret=secret,
        kinds=wanted,
        digest=digest,
        statements=statements,
        active=True,
        created_at=now,
    )
    connection.execute(
        subscriptions.insert().values(
            id=subscription.id,
            organisation_id=organisation_id,
            created_by=created_by,
            channel=channel,
            target=target,
            secret=secret,
            kinds=list(wanted),
            digest=digest,
            statements=statements,
            active=True,
            created_at=now,
        )
    )
    return subscription


def active_subscriptions(
    connection: Connection, organisation_ids: Iterable[str] | None = None
) -> list[Subscription]:
    query = select(subscriptions).where(subscriptions.c.active.is_(True))
    if organisation_ids is not None:
        query = query.where(subscriptions.c.organisation_id.in_(list(organisation_ids)))
    rows = connection.execute(query.order_by(subscriptions.c.created_at, subscriptions.c.id))
    return [subscription_from_row(row) for row in rows]


def get_subscription(connection: Connection, subscription_id: str) -> Subscription | None:
    row = connection.execute(
        select(subscriptions).where(subscriptions.c.id == subscription_id)
    ).first()
    return subscription_from_row(row) if row is not None else None


def deactivate_subscription(connection: Connection, subscription_id: str) -> bool:
    """Stop a subscription (e.g. its endpoint answered 410 Gone)."""
    result = connection.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id, subscriptions.c.active.is_(True))
        .values(active=False)
    )
    return bool(result.rowcount)


__all__ = [
    "EMAIL",
    "WEBHOOK",
    "InvalidSubscription",
    "Subscription",
    "active_subscriptions",
    "create_subscription",
    "deactivate_subscription",
    "generate_secret",
    "get_subscription",
    "secret_key",
]
