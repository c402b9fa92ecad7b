"""Payments: money a statutory payer sent, allocated to approved claims; reversible once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from shared.events.types import Allocation, PaymentEvent, PaymentRecorded, PaymentReversed
from shared.messages import N_
from shared.money import format_pence

from .claim import PAYABLE, UNDECIDED, Claim
from .errors import InvalidTransition
from .validation import REASON_MAX, Problems

REFERENCE_MAX = 100
MAX_ALLOCATIONS = 500
ALLOCATION_FIELDS = ("claim_id", "amount_pence")


@dataclass(frozen=True)
class Payment:
    id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    recorded_by: str
    paid_on: date
    reference: str
    amount_pence: int
    allocations: tuple[Allocation, ...]
    version: int = 1
    reversed_by: str | None = None
    reversed_on: date | None = None
    reversal_reason: str | None = None

    @property
    def reversed(self) -> bool:
        return self.reversed_on is not None

    @classmethod
    def replay(cls, events: Sequence[PaymentEvent]) -> Payment:
        if not events or not isinstance(events[0], PaymentRecorded):
            raise ValueError("a payment's stream starts with PaymentRecorded")
        first = events[0]
        payment = cls(
            id=first.payment_id,
            partnership_id=first.partnership_id,
            payer_id=first.payer_id,
            payee_id=first.payee_id,
            recorded_by=first.recorded_by,
            paid_on=first.paid_on,
            reference=first.reference,
            amount_pence=first.amount_pence,
            allocations=first.allocations,
        )
        for event in events[1:]:
            payment = payment.apply(event)
        return payment

    def apply(self, event: PaymentEvent) -> Payment:
        if not isinstance(event, PaymentReversed) or event.payment_id != self.id:
            raise ValueError(f"{type(event).__name__} does not follow payment {self.id}")
        return replace(
            self,
            version=self.version + 1,
            reversed_by=event.reversed_by,
            reversed_on=event.reversed_on,
            reversal_reason=event.reason,
        )

    def reverse(self, reason: object, *, by: str, today: date) -> PaymentReversed:
        """Undo the payment (once): each claim it paid owes that money again."""
        if self.reversed:
            raise InvalidTransition(N_("this payment has already been reversed"))
        if today < self.paid_on:
            raise ValueError(f"today ({today}) is before the payment date")
        problems = Problems()
        text = problems.text(reason, "reason", max_length=REASON_MAX, multiline=True)
        problems.raise_if_any()
        assert text is not None
        return PaymentReversed(
            payment_id=self.id,
            partnership_id=self.partnership_id,
            payer_id=self.payer_id,
            payee_id=self.payee_id,
            reversed_by=by,
            reversed_on=today,
            reason=text,
            allocations=self.allocations,
        )


def record_payment(
    payment_id: str,
    *,
    payer_id: object,
    payee_id: object,
    paid_on: object,
    reference: object,
    allocations: object,
    claims: Mapping[str, Claim],
    recorded_by: str,
    today: date,
) -> PaymentRecorded:
    """Record money sent by a payer to a payee, allocated to their approved claims.

    ``claims`` holds the claims the caller may see, by id (any other id is unknown). Each
    allocation is at most the claim's outstanding amount; all claims share one partnership.
    """
    problems = Problems()
    payer = problems.text(payer_id, "payer_id", max_length=100)
    payee = problems.text(payee_id, "payee_id", max_length=100)
    day = problems.day(paid_on, "paid_on")
    if day is not None and day > today:
        problems.add("paid_on", N_("must not be in the future"))
        day = None
    checked_reference = problems.text(reference, "reference", max_length=REFERENCE_MAX)
    checked: list[Allocation] = []
    partnerships: set[str] = set()
    seen: set[str] = set()
    items = problems.items(
        allocations, "allocations", minimum=1, maximum=MAX_ALLOCATIONS, noun="allocation"
    )
    for index, item in enumerate(items):
        path = f"allocations.{index}"
        raw = problems.mapping(item, path, ALLOCATION_FIELDS)
        if raw is None:
            continue
        amount = problems.pence(raw.get("amount_pence"), f"{path}.amount_pence")
        claim = _claim(problems, raw.get("claim_id"), f"{path}.claim_id", claims, seen)
        if claim is None:
            continue
        if payer is None or payee is None:
            continue
        if claim.payer_id != payer or claim.payee_id != payee:
            problems.add(
                f"{path}.claim_id",
                N_(
                    "payment to the wrong organisation: this claim is not payable by the payer "
                    "to the payee"
                ),
            )
            continue
        partnerships.add(claim.partnership_id)
        if claim.status not in PAYABLE:
            problems.add(f"{path}.claim_id", _not_payable(claim))
            continue
        if amount is not None and amount > claim.outstanding_pence:
            problems.add(
                f"{path}.amount_pence",
                N_(
                    "amount exceeds the claim's outstanding %(n)s",
                    n=format_pence(claim.outstanding_pence),
                ),
            )
            continue
        earliest = claim.payable_from
        if day is not None and earliest is not None and day < earliest:
            problems.add(
                "paid_on",
                N_(
                    "must not be before %(day)s for claim %(claim)s "
                    "(its approval, or the reversal of an earlier payment to it)",
                    day=earliest.isoformat(),
                    claim=claim.id,
                ),
            )
        if amount is not None:
            checked.append(Allocation(claim.id, amount))
    if len(partnerships) > 1:
        problems.add("allocations", N_("all claims of one payment must be in one partnership"))
    problems.raise_if_any()
    assert payer is not None and payee is not None and day is not None
    assert checked_reference is not None
    return PaymentRecorded(
        payment_id=payment_id,
        partnership_id=partnerships.pop(),
        payer_id=payer,
        payee_id=payee,
        recorded_by=recorded_by,
        paid_on=day,
        reference=checked_reference,
        amount_pence=sum(a.amount_pence for a in checked),
        allocations=tuple(checked),
    )


def _claim(
    problems: Problems,
    claim_id: object,
    path: str,
    claims: Mapping[str, Claim],
    seen: set[str],
) -> Claim | None:
    if claim_id is None:
        problems.add(path, N_("is required"))
        return None
    if not isinstance(claim_id, str) or claim_id not in claims:
        problems.add(path, N_("unknown claim"))
        return None
    if claim_id in seen:
        problems.add(path, N_("is listed twice: allocate to each claim once"))
        return None
    seen.add(claim_id)
    return claims[claim_id]


def _not_payable(claim: Claim) -> str:
    if claim.status == "paid":
        return N_("the claim is already paid in full")
    if claim.status in UNDECIDED:
        return N_("the claim is not approved yet")
    return N_("a %(status)s claim cannot be paid", status=claim.status)
