"""Digest mode: one email a day per recipient listing all their open items.

An organisation chooses it with an active email subscription that has `digest` set; its people
then get no per-alert emails (see alerts/recipients.py) and instead, once a day, one email
listing every unresolved alert (open or acknowledged) whose audience includes them — by role,
as for per-alert emails. The subscription's own address gets the same list, filtered by the
subscription's kinds. A day's digest for a recipient has the message id of (recipient, day), so
running `send_digests` again that day queues nothing; nobody gets an empty digest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine, select

from services.notifier.alerts.records import UNRESOLVED, Alert, alert_from_row
from services.notifier.settings import NotifierSettings
from services.notifier.store.read_model import load_people, organisation_language
from services.notifier.store.tables import alerts, deliveries, partnership_members
from shared.i18n import use_language
from shared.sql import begin_write

from .dispatcher import DispatchCounts, dispatch_due
from .email import render_digest_email
from .queue import EMAIL, message_id, queue_delivery
from .subscriptions import Subscription, active_subscriptions


@dataclass
class DigestReport:
    day: date
    queued: int = 0
    recipients: list[str] = field(default_factory=list)
    dispatched: DispatchCounts = field(default_factory=DispatchCounts)


def digest_message_id(recipient: str, day: date) -> str:
    return message_id("digest", recipient.lower(), day.isoformat())


def send_digests(
    engine: Engine, day: date, now: datetime, settings: NotifierSettings
) -> DigestReport:
    """Queue the day's digests (idempotent per recipient and day), then send what is due."""
    report = DigestReport(day)
    with begin_write(engine) as connection:
        for recipient, items, subscription_id, language in _digests(connection, day):
            with use_language(language):
                payload = render_digest_email(day, items)
            queued = queue_delivery(
                connection,
                channel=EMAIL,
                recipient=recipient,
                message_id=digest_message_id(recipient, day),
                payload=payload,
                now=now,
                subscription_id=subscription_id,
            )
            if queued:
                report.queued += 1
                report.recipients.append(recipient)
    report.dispatched = dispatch_due(engine, now, settings)
    return report


def _digests(
    connection: Connection, day: date
) -> list[tuple[str, list[Alert], str | None, str | None]]:
    """(recipient, items, subscription id, language) for each digest recipient still to be sent
    today: a person's language is theirs (or their organisation's), an address's its
    organisation's."""
    by_organisation: dict[str, list[Subscription]] = defaultdict(list)
    for subscription in active_subscriptions(connection):
        if subscription.channel == EMAIL and subscription.digest:
            by_organisation[subscription.organisation_id].append(subscription)
    items_of: dict[str, dict[str, Alert]] = defaultdict(dict)
    shown_as: dict[str, str] = {}
    via: dict[str, str | None] = {}
    language_of: dict[str, str | None] = {}
    for organisation_id, subscriptions in sorted(by_organisation.items()):
        visible = _alerts_heard_by(connection, organisation_id)
        if not visible:
            continue
        for person in load_people(connection, organisation_ids=[organisation_id]):
            key = person.email.lower()
            if _sent(connection, key, day):
                continue
            roles = set(person.roles)
            for alert, entry_roles in visible:
                if roles & entry_roles:
                    items_of[key][alert.id] = alert
            shown_as.setdefault(key, person.email)
            via.setdefault(key, None)
            language_of.setdefault(key, person.language)
        for subscription in subscriptions:
            key = subscription.target.lower()
            if _sent(connection, key, day):
                continue
            for alert, _ in visible:
                if subscription.wants(alert.kind):
                    items_of[key][alert.id] = alert
            shown_as.setdefault(key, subscription.target)
            via[key] = subscription.id
            language_of.setdefault(key, organisation_language(connection, organisation_id))
    result = []
    for key, found in sorted(items_of.items()):
        if found:
            ordered = sorted(found.values(), key=lambda a: (a.raised_at, a.id))
            result.append((shown_as[key], ordered, via.get(key), language_of.get(key)))
    return result


def _sent(connection: Connection, recipient: str, day: date) -> bool:
    found = connection.execute(
        select(deliveries.c.id).where(deliveries.c.message_id == digest_message_id(recipient, day))
    ).first()
    return found is not None


def _alerts_heard_by(connection: Connection, organisation_id: str) -> list[tuple[Alert, set[str]]]:
    """Unresolved alerts whose audience names the organisation (or, partnership-wide, its
    partnerships), each with the roles that hear it there."""
    partnerships = list(
        connection.execute(
            select(partnership_members.c.partnership_id).where(
                partnership_members.c.organisation_id == organisation_id
            )
        ).scalars()
    )
    query = select(alerts).where(alerts.c.status.in_(UNRESOLVED))
    if partnerships:
        query = query.where(alerts.c.partnership_id.in_(partnerships))
    else:
        query = query.where(
            (alerts.c.payer_id == organisation_id) | (alerts.c.payee_id == organisation_id)
        )
    heard = []
    for row in connection.execute(query.order_by(alerts.c.raised_at, alerts.c.id)):
        alert = alert_from_row(row)
        roles: set[str] = set()
        for entry in alert.audience:
            if entry.organisation_id == organisation_id or (
                entry.organisation_id is None and alert.partnership_id in partnerships
            ):
                roles.update(entry.roles)
        if roles:
            heard.append((alert, roles))
    return heard
