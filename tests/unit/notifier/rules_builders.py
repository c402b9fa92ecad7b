"""Builders for the rule tests: agreements as the read model holds them, and claim timelines
folded from the real event dataclasses (due dates from the ledger's own clocks)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from services.ledger.domain.clocks import approval_due, payment_due
from services.notifier.model import ClaimTimeline
from services.notifier.store.read_model import AgreementTerms
from shared.claim_position import Fact
from shared.events.types import (
    DEFAULT_REMINDER_SCHEDULE,
    Allocation,
    ClaimAmended,
    ClaimApproved,
    ClaimLine,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    ClaimWithdrawn,
    PaymentRecorded,
    PaymentReversed,
)

PARTNERSHIP = "p1"
PAYER = "icb"
PAYEE = "hope"
NAMES = {PAYER: "North ICB", PAYEE: "Hope Street Community Trust", "bridge": "Bridge Club"}

_ids = itertools.count(1)


def terms(**overrides: Any) -> AgreementTerms:
    values: dict[str, Any] = {
        "id": "a1",
        "partnership_id": PARTNERSHIP,
        "payer_id": PAYER,
        "payee_id": PAYEE,
        "nation": "england",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2027, 12, 31),
        "budget_pence": None,
        "payment_terms_days": 30,
        "approval_sla_working_days": 5,
        "reminder_schedule": DEFAULT_REMINDER_SCHEDULE,
    }
    values.update(overrides)
    return AgreementTerms(**values)


def _line(on: date) -> ClaimLine:
    return ClaimLine(on, Decimal("2"), "meeting", "Amina Khan", "Programme board", 5000, "hourly")


@dataclass
class ClaimStory:
    """One claim moved along by real events."""

    agreement: AgreementTerms
    timeline: ClaimTimeline
    payments: list[str] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)  # as recorded, from the submission

    @property
    def id(self) -> str:
        return self.timeline.claim_id

    def _apply(self, event: object) -> ClaimStory:
        self.timeline = self.timeline.apply(event)
        self.events.append(event)
        return self

    def amend(self, on: date, amount: int, answers_query: bool = False) -> ClaimStory:
        return self._apply(
            ClaimAmended(self.id, "amina", on, (_line(on),), (), amount, answers_query)
        )

    def query(self, on: date, question: str = "Which ward was this?") -> ClaimStory:
        return self._apply(ClaimQueried(self.id, "olu", on, question))

    def answer(self, on: date) -> ClaimStory:
        return self._apply(ClaimQueryAnswered(self.id, "amina", on, "Ward 7"))

    def approve(self, on: date, amount: int | None = None) -> ClaimStory:
        state = self.timeline.state_as_at(on)
        assert state is not None
        claimed = state.claimed_pence
        reason = None if amount is None or amount == claimed else "Partly outside scope"
        return self._apply(
            ClaimApproved(
                self.id, "olu", on, claimed if amount is None else amount, claimed, reason
            )
        )

    def reject(self, on: date) -> ClaimStory:
        return self._apply(ClaimRejected(self.id, "olu", on, "Outside the programme"))

    def withdraw(self, on: date) -> ClaimStory:
        return self._apply(ClaimWithdrawn(self.id, "amina", on))

    def pay(self, on: date, amount: int) -> ClaimStory:
        payment_id = f"pay{next(_ids)}"
        self.payments.append(payment_id)
        a = self.agreement
        return self._apply(
            PaymentRecorded(
                payment_id,
                a.partnership_id,
                a.payer_id,
                a.payee_id,
                "fin",
                on,
                f"BACS {payment_id}",
                amount,
                (Allocation(self.id, amount),),
            )
        )

    def reverse(self, on: date, amount: int) -> ClaimStory:
        a = self.agreement
        return self._apply(
            PaymentReversed(
                self.payments[-1],
                a.partnership_id,
                a.payer_id,
                a.payee_id,
                "fin",
                on,
                "Bounced",
                (Allocation(self.id, amount),),
            )
        )


def submit(
    on: date, amount: int = 23740, agreement: AgreementTerms | None = None, claim_id: str = ""
) -> ClaimStory:
    """A claim submitted on `on`, with the ledger's due dates for the agreement's nation."""
    agreement = agreement or terms()
    event = ClaimSubmitted(
        claim_id=claim_id or f"c{next(_ids)}",
        agreement_id=agreement.id,
        partnership_id=agreement.partnership_id,
        payer_id=agreement.payer_id,
        payee_id=agreement.payee_id,
        submitted_by="amina",
        submitted_on=on,
        lines=(_line(on),),
        expenses=(),
        amount_pence=amount,
        approval_due=approval_due(on, agreement.approval_sla_working_days, agreement.nation),
        payment_due=payment_due(on, agreement.payment_terms_days),
    )
    return ClaimStory(agreement, ClaimTimeline.submitted(event), events=[event])


def claim_timeline(
    claim_id: str,
    submitted_on: date,
    amount: int,
    *facts: Fact,
    payer: str = PAYER,
    hours: str = "4",
    payment_terms_days: int = 30,
) -> ClaimTimeline:
    """A claim's timeline from bare facts, for the figures' tests: submitted on `submitted_on`
    for `amount` pence (approval due a week later, payment due `payment_terms_days` after),
    then `facts` in order."""
    return ClaimTimeline(
        claim_id=claim_id,
        partnership_id=PARTNERSHIP,
        agreement_id="a1",
        payer_id=payer,
        payee_id=PAYEE,
        submitted_by="amina",
        submitted_on=submitted_on,
        approval_due=submitted_on + timedelta(days=7),
        base_payment_due=submitted_on + timedelta(days=payment_terms_days),
        facts=(Fact("submitted", submitted_on, amount, hours=Decimal(hours)), *facts),
    )
