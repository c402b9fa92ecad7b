"""Small builders for unit tests: one partnership, one agreement, claims moved along."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from services.ledger.domain.agreement import Agreement, sign_agreement
from services.ledger.domain.claim import Claim, ClaimHistoryEvent, submit_claim
from services.ledger.domain.organisation import Organisation
from services.ledger.domain.partnership import Partnership
from services.ledger.domain.payment import record_payment
from shared.events.types import PaymentRecorded

PAYER = Organisation("icb", "North ICB", "statutory")
OTHER_PAYER = Organisation("council", "Northside Council", "statutory")
PAYEE = Organisation("hope", "Hope Street Community Trust", "vcse")
OTHER_PAYEE = Organisation("bridge", "Bridge Club", "vcse")
ORGANISATIONS = {o.id: o for o in (PAYER, OTHER_PAYER, PAYEE, OTHER_PAYEE)}
PARTNERSHIP = Partnership("p1", "Northside", ("icb", "council", "hope", "bridge"))

SUBMITTER = "amina"
APPROVER = "olu"
FINANCE = "fin"
RATES: Mapping[str, Any] = {
    "hourly_pence": 2500,
    "half_day_pence": 8000,
    "day_pence": 15000,
    "by_activity": {"training": {"hourly_pence": 2000}},
}


def agreement(**overrides: Any) -> Agreement:
    terms: dict[str, Any] = {
        "payer_id": "icb",
        "payee_id": "hope",
        "organisations": ORGANISATIONS,
        "nation": "england",
        "starts_on": "2026-01-01",
        "ends_on": "2027-03-31",
        "rates": RATES,
        "budget_pence": 1_200_000,
    }
    terms.update(overrides)
    agreement_id = terms.pop("agreement_id", "a1")
    return Agreement.replay([sign_agreement(agreement_id, PARTNERSHIP, **terms)])


def line(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "worked_on": "2026-03-02",
        "hours": "2",
        "activity": "meeting",
        "worker": "Amina Khan",
        "description": "Programme board",
    }
    raw.update(overrides)
    return raw


def expense(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"category": "travel", "amount_pence": 1240, "description": "Bus fares"}
    raw.update(overrides)
    return raw


class ClaimStory:
    """A claim's events as they accumulate; ``claim`` is always the replayed state."""

    def __init__(
        self,
        claim_id: str = "c1",
        *,
        on: date = date(2026, 4, 2),
        lines: Sequence[Mapping[str, Any]] | None = None,
        expenses: Sequence[Mapping[str, Any]] = (),
        under: Agreement | None = None,
    ) -> None:
        self.agreement = under or agreement()
        self.events: list[ClaimHistoryEvent] = [
            submit_claim(
                claim_id,
                self.agreement,
                list(lines or [line()]),
                list(expenses),
                submitted_by=SUBMITTER,
                today=on,
            )
        ]

    @property
    def claim(self) -> Claim:
        return Claim.replay(self.events)

    def then(self, event: ClaimHistoryEvent) -> ClaimStory:
        self.events.append(event)
        return self

    def approved(self, on: date = date(2026, 4, 3), amount: int | None = None) -> ClaimStory:
        reason = None if amount is None else "partly outside scope"
        return self.then(
            self.claim.approve(by=APPROVER, today=on, amount_pence=amount, reason=reason)
        )

    def paid(self, amount: int, on: date, payment_id: str = "pay1") -> PaymentRecorded:
        payment = record_payment(
            payment_id,
            payer_id=self.claim.payer_id,
            payee_id=self.claim.payee_id,
            paid_on=on,
            reference="BACS 4471",
            allocations=[{"claim_id": self.claim.id, "amount_pence": amount}],
            claims={self.claim.id: self.claim},
            recorded_by=FINANCE,
            today=on,
        )
        self.then(payment)
        return payment
