from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.ledger.domain.agreement import Agreement, sign_agreement
from services.ledger.domain.claim import Claim
from services.ledger.domain.errors import InvalidTransition, ValidationFailed
from services.ledger.domain.partnership import Partnership
from services.ledger.domain.payment import Payment, record_payment
from shared.events.types import Allocation, PaymentRecorded

from .builders import APPROVER, FINANCE, ORGANISATIONS, ClaimStory, agreement

PAID_ON = date(2026, 4, 10)


def approved(claim_id: str = "c1", **kwargs: Any) -> ClaimStory:
    return ClaimStory(claim_id, **kwargs).approved()  # 5000 each


def pay(claims: list[Claim], allocations: Any, **overrides: Any) -> PaymentRecorded:
    terms: dict[str, Any] = {
        "payer_id": "icb",
        "payee_id": "hope",
        "paid_on": PAID_ON.isoformat(),
        "reference": "BACS 4471",
        "allocations": allocations,
        "claims": {claim.id: claim for claim in claims},
        "recorded_by": FINANCE,
        "today": PAID_ON,
    }
    terms.update(overrides)
    return record_payment("pay1", **terms)


def errors_of(claims: list[Claim], allocations: Any, **overrides: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        pay(claims, allocations, **overrides)
    return caught.value.errors


def test_one_payment_across_two_claims() -> None:
    one, two = approved("c1"), approved("c2")
    event = pay(
        [one.claim, two.claim],
        [{"claim_id": "c1", "amount_pence": 5000}, {"claim_id": "c2", "amount_pence": 2000}],
    )
    assert event.amount_pence == 7000
    assert event.partnership_id == "p1"
    assert event.allocations == (Allocation("c1", 5000), Allocation("c2", 2000))
    assert one.then(event).claim.status == "paid"
    assert one.claim.outstanding_pence == 0
    assert two.then(event).claim.status == "part_paid"
    assert two.claim.outstanding_pence == 3000


def test_part_paid_then_paid_and_reversal_moves_back() -> None:
    story = approved()
    first = story.paid(2000, on=date(2026, 4, 5), payment_id="p-a")
    assert (story.claim.status, story.claim.outstanding_pence) == ("part_paid", 3000)
    story.paid(3000, on=date(2026, 4, 6), payment_id="p-b")
    assert (story.claim.status, story.claim.outstanding_pence) == ("paid", 0)
    reversal = Payment.replay([first]).reverse("Bounced", by=FINANCE, today=date(2026, 4, 7))
    assert reversal.allocations == first.allocations
    story.then(reversal)
    assert (story.claim.status, story.claim.paid_pence, story.claim.outstanding_pence) == (
        "part_paid",
        3000,
        2000,
    )
    assert story.claim.payable_from == date(2026, 4, 7)


def test_reversing_the_only_payment_returns_the_claim_to_approved() -> None:
    story = approved()
    payment = story.paid(5000, on=PAID_ON)
    story.then(Payment.replay([payment]).reverse("Wrong account", by=FINANCE, today=PAID_ON))
    assert (story.claim.status, story.claim.outstanding_pence) == ("approved", 5000)


def test_over_allocation_is_refused() -> None:
    story = approved()
    story.paid(4000, on=date(2026, 4, 5))
    assert errors_of([story.claim], [{"claim_id": "c1", "amount_pence": 1001}]) == {
        "allocations.0.amount_pence": ["amount exceeds the claim's outstanding £10.00"]
    }


def test_payment_to_the_wrong_organisation_is_refused() -> None:
    elsewhere = approved("c9", under=agreement(agreement_id="a9", payee_id="bridge"))
    allocation = [{"claim_id": "c9", "amount_pence": 100}]
    message = (
        "payment to the wrong organisation: this claim is not payable by the payer to the payee"
    )
    assert errors_of([elsewhere.claim], allocation) == {"allocations.0.claim_id": [message]}
    assert errors_of(
        [approved().claim], [{"claim_id": "c1", "amount_pence": 1}], payer_id="council"
    ) == {"allocations.0.claim_id": [message]}


def test_only_approved_or_part_paid_claims_can_be_paid() -> None:
    pending = ClaimStory("c1").claim
    rejected_story = ClaimStory("c2")
    rejected_story.then(rejected_story.claim.reject("No", by=APPROVER, today=date(2026, 4, 3)))
    paid = approved("c3")
    paid.paid(5000, on=date(2026, 4, 5))
    errors = errors_of(
        [pending, rejected_story.claim, paid.claim],
        [
            {"claim_id": "c1", "amount_pence": 1},
            {"claim_id": "c2", "amount_pence": 1},
            {"claim_id": "c3", "amount_pence": 1},
        ],
    )
    assert errors == {
        "allocations.0.claim_id": ["the claim is not approved yet"],
        "allocations.1.claim_id": ["a rejected claim cannot be paid"],
        "allocations.2.claim_id": ["the claim is already paid in full"],
    }


def test_allocations_are_checked_together() -> None:
    claim = approved().claim
    errors = errors_of(
        [claim],
        [
            {"claim_id": "c1", "amount_pence": 100},
            {"claim_id": "c1", "amount_pence": 100},
            {"claim_id": "ghost", "amount_pence": 100},
            {"claim_id": "c1", "amount_pence": 12.5, "note": "x"},
            {"amount_pence": -1},
        ],
        paid_on="2026-04-11",
        reference="R" * 101,
    )
    assert errors == {
        "paid_on": ["must not be in the future"],
        "reference": ["must be at most 100 characters"],
        "allocations.1.claim_id": ["is listed twice: allocate to each claim once"],
        "allocations.2.claim_id": ["unknown claim"],
        "allocations.3.note": ["unknown field"],
        "allocations.3.amount_pence": ["must be a whole number of pence"],
        "allocations.3.claim_id": ["is listed twice: allocate to each claim once"],
        "allocations.4.amount_pence": ["must be positive"],
        "allocations.4.claim_id": ["is required"],
    }
    assert errors_of([claim], []) == {"allocations": ["at least one allocation is required"]}
    assert errors_of([claim], [{"claim_id": "c1", "amount_pence": 1}], reference=" ") == {
        "reference": ["is required"]
    }


def test_a_payment_cannot_predate_the_approval() -> None:
    claim = approved().claim  # approved 3 April
    assert errors_of([claim], [{"claim_id": "c1", "amount_pence": 1}], paid_on="2026-04-02") == {
        "paid_on": [
            "must not be before 2026-04-03 for claim c1 (its approval, or the reversal of an "
            "earlier payment to it)"
        ]
    }


def test_all_claims_in_one_partnership() -> None:
    other = Partnership("p2", "Southside", ("icb", "hope"))
    signed = sign_agreement(
        "a2",
        other,
        payer_id="icb",
        payee_id="hope",
        organisations=ORGANISATIONS,
        nation="wales",
        starts_on="2026-01-01",
        ends_on="2026-12-31",
        rates={"hourly_pence": 2500},
    )
    south = approved("c2", under=Agreement.replay([signed]))
    errors = errors_of(
        [approved().claim, south.claim],
        [{"claim_id": "c1", "amount_pence": 1}, {"claim_id": "c2", "amount_pence": 1}],
    )
    assert errors == {"allocations": ["all claims of one payment must be in one partnership"]}


def test_a_payment_is_reversed_once_with_a_reason() -> None:
    story = approved()
    payment = Payment.replay([story.paid(5000, on=PAID_ON)])
    assert not payment.reversed
    with pytest.raises(ValidationFailed) as caught:
        payment.reverse("", by=FINANCE, today=PAID_ON)
    assert caught.value.errors == {"reason": ["is required"]}
    reversal = payment.reverse("Duplicate", by=FINANCE, today=PAID_ON)
    after = payment.apply(reversal)
    assert after.reversed and after.reversal_reason == "Duplicate" and after.version == 2
    with pytest.raises(InvalidTransition, match="already been reversed"):
        after.reverse("Again", by=FINANCE, today=PAID_ON)
    assert Payment.replay([story.events[-1], reversal]) == after  # type: ignore[list-item]
