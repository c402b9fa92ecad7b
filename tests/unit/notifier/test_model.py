"""The notifier's claim timeline: what was true on any day, folded from real events."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, timedelta
from decimal import Decimal

from services.notifier.model import ClaimTimeline, claims_of
from shared.events.types import (
    Allocation,
    ClaimAmended,
    ClaimApproved,
    ClaimLine,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    PaymentRecorded,
    PaymentReversed,
)

SUBMITTED_ON = date(2026, 3, 2)


def submitted(amount: int = 10_000, claim_id: str = "c1") -> ClaimSubmitted:
    return ClaimSubmitted(
        claim_id=claim_id,
        agreement_id="a1",
        partnership_id="p1",
        payer_id="icb",
        payee_id="hope",
        submitted_by="amina",
        submitted_on=SUBMITTED_ON,
        lines=(
            ClaimLine(
                SUBMITTED_ON, Decimal("3.5"), "co_design", "Amina", "Workshop", 8000, "half_day"
            ),
            ClaimLine(SUBMITTED_ON, Decimal("0.75"), "meeting", "Amina", "Board", 2000, "hourly"),
        ),
        expenses=(),
        amount_pence=amount,
        approval_due=date(2026, 3, 9),
        payment_due=SUBMITTED_ON + timedelta(days=30),
    )


def paid(amount: int, on: date, payment_id: str = "pay1", claim_id: str = "c1") -> PaymentRecorded:
    return PaymentRecorded(
        payment_id=payment_id,
        partnership_id="p1",
        payer_id="icb",
        payee_id="hope",
        recorded_by="fin",
        paid_on=on,
        reference="BACS 1",
        amount_pence=amount,
        allocations=(Allocation(claim_id, amount),),
    )


def test_a_submitted_claim_is_awaiting_approval_and_overdue_after_thirty_days() -> None:
    timeline = ClaimTimeline.submitted(submitted())
    assert timeline.state_as_at(SUBMITTED_ON - timedelta(days=1)) is None
    state = timeline.state_as_at(SUBMITTED_ON + timedelta(days=30))
    assert state is not None
    assert (state.status, state.awaiting_approval_pence, state.days_overdue) == (
        "submitted",
        10_000,
        0,
    )
    assert state.hours == Decimal("4.25")
    late = timeline.state_as_at(SUBMITTED_ON + timedelta(days=45))
    assert late is not None
    assert (late.days_overdue, late.overdue_pence, late.bucket) == (15, 10_000, "1-30")


def test_a_query_pauses_the_payment_clock_and_is_never_overdue() -> None:
    timeline = ClaimTimeline.submitted(submitted()).apply(
        ClaimQueried("c1", "olu", date(2026, 3, 5), "Which ward?")
    )
    while_queried = timeline.state_as_at(date(2026, 5, 1))
    assert while_queried is not None
    assert while_queried.status == "queried"
    assert while_queried.overdue_pence == 0
    assert while_queried.payment_due == SUBMITTED_ON + timedelta(days=30 + 57)
    answered = timeline.apply(ClaimQueryAnswered("c1", "amina", date(2026, 3, 15), "Ward 7"))
    state = answered.state_as_at(date(2026, 4, 20))
    assert state is not None
    assert state.queried_days == 10
    assert state.payment_due == date(2026, 4, 11)
    assert state.days_overdue == 9


def test_money_through_approval_payment_and_reversal() -> None:
    timeline = (
        ClaimTimeline.submitted(submitted())
        .apply(ClaimApproved("c1", "olu", date(2026, 3, 6), 9_000, 10_000, "Fares"))
        .apply(paid(4_000, date(2026, 3, 20)))
        .apply(
            PaymentReversed(
                "pay1",
                "p1",
                "icb",
                "hope",
                "fin",
                date(2026, 3, 25),
                "Bounced",
                (Allocation("c1", 4_000),),
            )
        )
        .apply(paid(9_000, date(2026, 4, 10), payment_id="pay2"))
    )
    on = timeline.state_as_at
    assert on(date(2026, 3, 6)).status == "approved"  # type: ignore[union-attr]
    part = on(date(2026, 3, 21))
    assert part is not None and (part.status, part.outstanding_pence) == ("part_paid", 5_000)
    reopened = on(date(2026, 3, 26))
    assert reopened is not None and (reopened.status, reopened.outstanding_pence) == (
        "approved",
        9_000,
    )
    settled = on(date(2026, 4, 10))
    assert settled is not None
    assert (settled.status, settled.outstanding_pence, settled.paid_in_full_on) == (
        "paid",
        0,
        date(2026, 4, 10),
    )
    assert settled.bucket is None


def test_amendments_reprice_and_rejection_closes() -> None:
    timeline = (
        ClaimTimeline.submitted(submitted())
        .apply(ClaimQueried("c1", "olu", date(2026, 3, 4), "Receipts?"))
        .apply(ClaimAmended("c1", "amina", date(2026, 3, 6), (), (), 7_500, True))
        .apply(ClaimRejected("c1", "olu", date(2026, 3, 9), "Out of scope"))
    )
    amended = timeline.state_as_at(date(2026, 3, 7))
    assert amended is not None and (amended.claimed_pence, amended.status) == (7_500, "submitted")
    assert amended.queried_days == 2
    final = timeline.state_as_at(date(2026, 6, 1))
    assert final is not None
    assert (final.status, final.open_pence, final.overdue_pence) == ("rejected", 0, 0)


def test_claims_of_folds_a_stream_and_ignores_other_claims_payments() -> None:
    events = [
        submitted(claim_id="c1"),
        submitted(claim_id="c2"),
        paid(1, date(2026, 3, 3), claim_id="c2"),
    ]
    timelines = claims_of(events)
    assert set(timelines) == {"c1", "c2"}
    assert len(timelines["c1"].facts) == 1
    assert len(timelines["c2"].facts) == 2


def test_a_fact_added_keeps_every_other_field_of_the_timeline() -> None:
    # `apply` builds the new timeline field by field (faster than dataclasses.replace): a
    # field added to ClaimTimeline and not carried over there fails here.
    timeline = ClaimTimeline.submitted(submitted())
    after = timeline.apply(ClaimApproved("c1", "approver", date(2026, 3, 4), 10_000, 10_000, None))
    assert len(after.facts) == 2
    assert after == replace(timeline, facts=after.facts)
    # The fields `apply` carries over: a new one (with a default, so the constructor call
    # still type-checks without it) must be added there too, and here.
    assert [f.name for f in fields(ClaimTimeline)] == [
        "claim_id",
        "partnership_id",
        "agreement_id",
        "payer_id",
        "payee_id",
        "submitted_by",
        "submitted_on",
        "approval_due",
        "base_payment_due",
        "facts",
    ]
