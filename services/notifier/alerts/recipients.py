"""Who hears of an alert, and on which channel.

For each entry of the alert's audience (an organisation and roles, or roles across the
partnership's organisations):
- email to each person of that organisation holding one of the roles, unless the organisation
  has an active digest email subscription (they get the daily digest instead);
- each active subscription of that organisation that wants the kind: email to its target
  (unless it is itself a digest subscription), or a signed webhook to its URL.
A partnership-wide entry brings in an organisation's subscriptions only if the organisation has
someone with the roles (so a partner viewer's organisation hears, the other charities do not).
Message ids are stable per (alert, channel, recipient): a person who is also a subscription's
target gets one email.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from services.notifier.delivery.email import render_alert_email
from services.notifier.delivery.queue import EMAIL, WEBHOOK, message_id, queue_delivery
from services.notifier.delivery.subscriptions import Subscription, active_subscriptions
from services.notifier.store.read_model import PersonRecord, load_people, organisation_language
from services.notifier.store.tables import partnership_members
from shared.i18n import use_language

from .records import Alert


@dataclass(frozen=True)
class Destination:
    channel: str
    recipient: str
    subscription_id: str | None = None
    # The language of the email: the person's (or their organisation's) choice; None: English.
    language: str | None = None


class Directory:
    """People, subscriptions and partnership members, loaded once per evaluation."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._people: dict[str, list[PersonRecord]] = {}
        self._subscriptions: dict[str, list[Subscription]] = {}
        self._members: dict[str, list[str]] = {}
        self._languages: dict[str, str | None] = {}

    def preload(self, organisation_ids: Iterable[str]) -> None:
        """Load the people and subscriptions of these organisations in one query each."""
        wanted = sorted({o for o in organisation_ids if o not in self._people})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            people = load_people(self._connection, organisation_ids=chunk)
            subscriptions = active_subscriptions(self._connection, chunk)
            for organisation_id in chunk:
                self._people[organisation_id] = [
                    p for p in people if p.organisation_id == organisation_id
                ]
                self._subscriptions[organisation_id] = [
                    s for s in subscriptions if s.organisation_id == organisation_id
                ]

    def people(self, organisation_id: str) -> list[PersonRecord]:
        if organisation_id not in self._people:
            self._people[organisation_id] = load_people(
                self._connection, organisation_ids=[organisation_id]
            )
        return self._people[organisation_id]

    def subscriptions(self, organisation_id: str) -> list[Subscription]:
        if organisation_id not in self._subscriptions:
            self._subscriptions[organisation_id] = active_subscriptions(
                self._connection, [organisation_id]
            )
        return self._subscriptions[organisation_id]

    def members(self, partnership_id: str) -> list[str]:
        if partnership_id not in self._members:
            rows = self._connection.execute(
                select(partnership_members.c.organisation_id)
                .where(partnership_members.c.partnership_id == partnership_id)
                .order_by(partnership_members.c.organisation_id)
            )
            self._members[partnership_id] = list(rows.scalars())
        return self._members[partnership_id]

    def language(self, organisation_id: str) -> str | None:
        """The organisation's language for emails to its subscriptions' addresses."""
        if organisation_id not in self._languages:
            self._languages[organisation_id] = organisation_language(
                self._connection, organisation_id
            )
        return self._languages[organisation_id]

    def digests(self, organisation_id: str) -> bool:
        """Has the organisation chosen one digest email a day instead of one per alert?"""
        return any(s.channel == EMAIL and s.digest for s in self.subscriptions(organisation_id))

    def holders(self, organisation_id: str, roles: Iterable[str]) -> list[PersonRecord]:
        wanted = set(roles)
        return [p for p in self.people(organisation_id) if wanted & set(p.roles)]


def destinations(alert: Alert, directory: Directory) -> list[Destination]:
    """Every (channel, recipient) the alert goes to, without duplicates, in a stable order."""
    emails: dict[str, Destination] = {}
    hooks: dict[str, Destination] = {}
    heard: list[str] = []
    for entry in alert.audience:
        if entry.organisation_id is not None:
            organisations = [entry.organisation_id]
        else:
            organisations = directory.members(alert.partnership_id)
        for organisation_id in organisations:
            holders = directory.holders(organisation_id, entry.roles)
            if entry.organisation_id is not None or holders:
                heard.append(organisation_id)
            if directory.digests(organisation_id):
                continue
            for person in holders:
                emails.setdefault(
                    person.email.lower(),
                    Destination(EMAIL, person.email, language=person.language),
                )
    for organisation_id in dict.fromkeys(heard):
        for subscription in directory.subscriptions(organisation_id):
            if not subscription.wants(alert.kind):
                continue
            if subscription.channel == EMAIL and not subscription.digest:
                emails.setdefault(
                    subscription.target.lower(),
                    Destination(
                        EMAIL,
                        subscription.target,
                        subscription.id,
                        directory.language(organisation_id),
                    ),
                )
            elif subscription.channel == WEBHOOK:
                hooks.setdefault(
                    subscription.id, Destination(WEBHOOK, subscription.target, subscription.id)
                )
    return [*emails.values(), *hooks.values()]


# A delivery's payload names the ledger request behind it: a webhook's body and header
# (X-Correlation-ID), an email's header.
CORRELATION_PAYLOAD_KEY = "correlation_id"


def webhook_payload(alert: Alert) -> dict[str, object]:
    payload: dict[str, object] = {
        "type": "alert.raised",
        "timestamp": alert.raised_at.isoformat(),
        "data": alert.to_json(),
    }
    if alert.correlation_id:
        payload[CORRELATION_PAYLOAD_KEY] = alert.correlation_id
    return payload


def queue_alert_deliveries(
    connection: Connection, alert: Alert, directory: Directory, now: datetime
) -> int:
    """Queue the alert's deliveries in the caller's transaction; returns how many are new."""
    queued = 0
    emails: dict[str | None, dict[str, str]] = {}  # one rendering per language
    for destination in destinations(alert, directory):
        if destination.channel == EMAIL:
            if destination.language not in emails:
                with use_language(destination.language):
                    emails[destination.language] = render_alert_email(alert)
            payload: dict[str, object] = dict(emails[destination.language])
            if alert.correlation_id:
                payload[CORRELATION_PAYLOAD_KEY] = alert.correlation_id
            key = destination.recipient.lower()
        else:
            payload = webhook_payload(alert)
            key = destination.subscription_id or destination.recipient
        queued += queue_delivery(
            connection,
            channel=destination.channel,
            recipient=destination.recipient,
            message_id=message_id(alert.id, destination.channel, key),
            payload=payload,
            now=now,
            alert_id=alert.id,
            subscription_id=destination.subscription_id,
        )
    return queued
