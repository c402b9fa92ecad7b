"""`PersonalDataErased` in the notifier: scrub the clear copies its read model made.

The notifier opens sealed fields when it applies an event and keeps what it needs in the clear
(a person's name and email to send alerts to; a claim's questions, answers and reasons for the
alert emails and statements). On the erasure event it overwrites those copies with "erased",
in the same transaction as the event's offset: people, claim facts, alert details, the
deliveries queued or sent to the person (their recipient, and the question quoted in an alert
email), and any subscription of that address. Amounts, dates and statuses are not touched.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select, update

from shared.events.personal import ERASED

from .store.tables import alerts, claims, deliveries, people, subscriptions

_TEXT_FACTS = frozenset({"queried", "answered", "approved", "rejected"})


def scrub(connection: Connection, subjects: Iterable[str]) -> None:
    person_ids: list[str] = []
    claim_ids: list[str] = []
    for subject in subjects:
        kind, _, entity_id = subject.partition(":")
        if kind == "person":
            person_ids.append(entity_id)
        elif kind == "claim":
            claim_ids.append(entity_id)
    for person_id in person_ids:
        _scrub_person(connection, person_id)
    if claim_ids:
        _scrub_claims(connection, claim_ids)


def _scrub_person(connection: Connection, person_id: str) -> None:
    email = connection.execute(select(people.c.email).where(people.c.id == person_id)).scalar()
    connection.execute(
        # No roles either: a token still signed for them opens nothing here.
        update(people).where(people.c.id == person_id).values(name=ERASED, email=ERASED, roles=[])
    )
    if not email or email == ERASED:
        return
    address = func.lower(deliveries.c.recipient) == email.lower()
    connection.execute(
        update(deliveries)
        .where(address, deliveries.c.status == "pending")
        .values(status="failed", last_error="the recipient's personal data was erased")
    )
    connection.execute(update(deliveries).where(address).values(recipient=ERASED))
    connection.execute(
        update(subscriptions)
        .where(func.lower(subscriptions.c.target) == email.lower())
        .values(target=ERASED, active=False)
    )


def _scrub_claims(connection: Connection, claim_ids: list[str]) -> None:
    for row in connection.execute(
        select(claims.c.id, claims.c.facts).where(claims.c.id.in_(claim_ids))
    ).all():
        facts = [
            {**f, "text": ERASED} if f.get("kind") in _TEXT_FACTS and "text" in f else f
            for f in row.facts
        ]
        connection.execute(update(claims).where(claims.c.id == row.id).values(facts=facts))
    for alert in connection.execute(
        select(alerts.c.id, alerts.c.detail).where(alerts.c.claim_id.in_(claim_ids))
    ).all():
        question = (alert.detail or {}).get("question")
        if not question or question == ERASED:
            continue
        connection.execute(
            update(alerts)
            .where(alerts.c.id == alert.id)
            .values(detail={**alert.detail, "question": ERASED})
        )
        for delivery in connection.execute(
            select(deliveries.c.id, deliveries.c.payload).where(deliveries.c.alert_id == alert.id)
        ).all():
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery.id)
                .values(payload=_without(delivery.payload, question))
            )


def _without(payload: Any, text: str) -> Any:
    """The payload with every copy of `text` (plain or HTML-escaped) replaced by "erased"."""
    if isinstance(payload, str):
        return payload.replace(text, ERASED).replace(html.escape(text), ERASED)
    if isinstance(payload, dict):
        return {key: _without(value, text) for key, value in payload.items()}
    if isinstance(payload, list):
        return [_without(value, text) for value in payload]
    return payload
