"""A small partnership fed into a real notifier database through `apply_event`, for the alert
and delivery tests: a statutory payer, a charity, a learning partner, one person per role."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from services.ledger.domain.clocks import approval_due, payment_due
from services.notifier.delivery.subscriptions import Subscription, create_subscription
from services.notifier.projection import apply_event
from services.notifier.store.tables import alerts, deliveries
from shared.events.envelope import StoredEvent
from shared.events.types import (
    DEFAULT_REMINDER_SCHEDULE,
    AgreementSigned,
    Allocation,
    ClaimApproved,
    ClaimLine,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    OrganisationRegistered,
    PartnershipFormed,
    PaymentRecorded,
    PaymentReversed,
    PersonAdded,
    RateCard,
)
from shared.sql import begin_write

NOW = datetime(2026, 4, 16, 9, 0, tzinfo=UTC)
PARTNERSHIP = "p1"
PAYER = "icb"
PAYEE = "hope"
LEARNING = "learn"
OTHER_PAYEE = "bridge"
AGREEMENT = "a1"
PEOPLE = {
    "olu": (PAYER, "Olu Adeyemi", "olu@icb.example", ("approver",)),
    "fin": (PAYER, "Fran Ince", "fin@icb.example", ("finance",)),
    "amina": (PAYEE, "Amina Khan", "amina@hope.example", ("vcse_admin",)),
    "sam": (PAYEE, "Sam Lee", "sam@hope.example", ("vcse_member",)),
    "pat": (LEARNING, "Pat Viewer", "pat@learn.example", ("partner_viewer",)),
    "bea": (OTHER_PAYEE, "Bea Club", "bea@bridge.example", ("vcse_admin",)),
}


@dataclass
class NotifierWorld:
    engine: Engine
    position: int = 0
    claims: dict[str, int] = field(default_factory=dict)  # claim id -> claimed pence
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def feed(self, *events: object) -> list[str]:
        """Apply events as the consumer would; the claim ids they changed."""
        changed: list[str] = []
        with begin_write(self.engine) as connection:
            for event in events:
                self.position += 1
                envelope = StoredEvent(
                    global_position=self.position,
                    event_id=uuid.uuid4(),
                    type=type(event).__name__,
                    schema_version=1,
                    stream_id=f"s{self.position}",
                    stream_version=1,
                    partition_key=PARTNERSHIP,
                    occurred_at=NOW,
                    actor=None,
                    correlation_id=None,
                    causation_id=None,
                    data={},
                )
                changed.extend(apply_event(connection, envelope, event))
        return changed

    def setup(self, budget_pence: int | None = 100_000, nation: str = "england") -> None:
        self.feed(
            OrganisationRegistered(PAYER, "North ICB", "statutory"),
            OrganisationRegistered(PAYEE, "Hope Street Community Trust", "vcse"),
            OrganisationRegistered(LEARNING, "Northside Learning Partner", "statutory"),
            OrganisationRegistered(OTHER_PAYEE, "Bridge Club", "vcse"),
            PartnershipFormed(PARTNERSHIP, "Northside", (PAYER, PAYEE, LEARNING, OTHER_PAYEE)),
            *(
                PersonAdded(person, organisation, name, email, roles)
                for person, (organisation, name, email, roles) in PEOPLE.items()
            ),
            AgreementSigned(
                AGREEMENT,
                PARTNERSHIP,
                PAYER,
                PAYEE,
                nation,
                date(2026, 1, 1),
                date(2027, 3, 31),
                RateCard.of(2500),
                budget_pence,
                30,
                5,
                DEFAULT_REMINDER_SCHEDULE,
            ),
        )

    def submit(self, on: date, amount: int = 23740, claim_id: str | None = None) -> str:
        claim_id = claim_id or f"c{next(self._ids)}"
        line = ClaimLine(on, Decimal("2"), "meeting", "Amina Khan", "Board", amount, "hourly")
        self.feed(
            ClaimSubmitted(
                claim_id,
                AGREEMENT,
                PARTNERSHIP,
                PAYER,
                PAYEE,
                "amina",
                on,
                (line,),
                (),
                amount,
                approval_due(on, 5, "england"),
                payment_due(on, 30),
            )
        )
        self.claims[claim_id] = amount
        return claim_id

    def approve(self, claim_id: str, on: date) -> None:
        amount = self.claims[claim_id]
        self.feed(ClaimApproved(claim_id, "olu", on, amount, amount))

    def query(self, claim_id: str, on: date) -> None:
        self.feed(ClaimQueried(claim_id, "olu", on, "Which ward?"))

    def answer(self, claim_id: str, on: date) -> None:
        self.feed(ClaimQueryAnswered(claim_id, "amina", on, "Ward 7"))

    def reject(self, claim_id: str, on: date) -> None:
        self.feed(ClaimRejected(claim_id, "olu", on, "Outside the programme"))

    def pay(self, claim_id: str, on: date, amount: int | None = None) -> str:
        amount = self.claims[claim_id] if amount is None else amount
        payment_id = f"pay{next(self._ids)}"
        self.feed(
            PaymentRecorded(
                payment_id,
                PARTNERSHIP,
                PAYER,
                PAYEE,
                "fin",
                on,
                "BACS 4471",
                amount,
                (Allocation(claim_id, amount),),
            )
        )
        return payment_id

    def reverse(self, payment_id: str, claim_id: str, on: date, amount: int) -> None:
        self.feed(
            PaymentReversed(
                payment_id,
                PARTNERSHIP,
                PAYER,
                PAYEE,
                "fin",
                on,
                "Bounced",
                (Allocation(claim_id, amount),),
            )
        )

    def subscribe(
        self, organisation_id: str, channel: str, target: str, **options: Any
    ) -> Subscription:
        with begin_write(self.engine) as connection:
            return create_subscription(
                connection,
                organisation_id=organisation_id,
                created_by="amina",
                channel=channel,
                target=target,
                now=NOW,
                allow_loopback=True,
                **options,
            )

    def count_alerts(self, **where: Any) -> int:
        query = select(func.count()).select_from(alerts)
        for name, value in where.items():
            query = query.where(alerts.c[name] == value)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def alert_rows(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(alerts).order_by(alerts.c.kind, alerts.c.level)))

    def delivery_rows(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(deliveries).order_by(deliveries.c.channel, deliveries.c.recipient)
                )
            )
