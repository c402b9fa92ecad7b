from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.ledger.domain.balances import (
    AGING_BUCKETS,
    aging_bucket,
    fixed_contribution,
    organisation_balance,
)
from services.ledger.domain.payment import Payment

from .builders import APPROVER, FINANCE, SUBMITTER, ClaimStory, line

SUBMITTED = date(2026, 4, 2)
DUE = date(2026, 5, 2)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, "not_due"),
        (0, "not_due"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (400, "90+"),
    ],
)
def test_aging_bucket_boundaries(days: int, bucket: str) -> None:
    assert aging_bucket(days) == bucket


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "not_due"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
    ],
)
def test_an_approved_unpaid_claim_ages_from_payment_due(days: int, bucket: str) -> None:
    story = ClaimStory(on=SUBMITTED).approved(on=date(2026, 4, 3))
    position = story.claim.position_as_at(DUE + timedelta(days=days))
    assert position is not None
    assert position.days_overdue == days
    assert position.bucket == bucket
    assert position.overdue_pence == (5000 if days > 0 else 0)


def test_position_as_at_follows_the_dated_events() -> None:
    story = ClaimStory(on=SUBMITTED)  # 5000 claimed, approval due 13 April, payment due 2 May
    story.then(
        story.claim.amend(
            [line(hours="4")], agreement=story.agreement, by=SUBMITTER, today=date(2026, 4, 8)
        )
    )  # 8000 (half day)
    story.approved(on=date(2026, 5, 10))
    story.paid(2000, on=date(2026, 5, 20), payment_id="pay-a")
    payment = story.paid(6000, on=date(2026, 6, 1), payment_id="pay-b")
    story.then(Payment.replay([payment]).reverse("Bounced", by=FINANCE, today=date(2026, 6, 10)))
    claim = story.claim

    assert claim.position_as_at(date(2026, 4, 1)) is None

    early = claim.position_as_at(date(2026, 4, 5))
    assert early is not None
    assert (early.status, early.claimed_pence, early.awaiting_approval_pence) == (
        "submitted",
        5000,
        5000,
    )
    assert (early.approved_pence, early.outstanding_pence, early.bucket) == (0, 0, "not_due")
    assert not early.approval_overdue

    waiting = claim.position_as_at(date(2026, 5, 5))
    assert waiting is not None
    assert waiting.status == "submitted" and waiting.claimed_pence == 8000
    assert waiting.approval_overdue
    # Not approved, yet overdue: a payer cannot escape lateness by not approving.
    assert (waiting.days_overdue, waiting.overdue_pence, waiting.bucket) == (3, 8000, "1-30")

    approved = claim.position_as_at(date(2026, 5, 15))
    assert approved is not None
    assert (approved.status, approved.approved_pence, approved.outstanding_pence) == (
        "approved",
        8000,
        8000,
    )
    assert approved.awaiting_approval_pence == 0 and not approved.approval_overdue

    part = claim.position_as_at(date(2026, 5, 25))
    assert part is not None
    assert (part.status, part.paid_pence, part.outstanding_pence, part.overdue_pence) == (
        "part_paid",
        2000,
        6000,
        6000,
    )

    paid = claim.position_as_at(date(2026, 6, 5))
    assert paid is not None
    assert (paid.status, paid.paid_pence, paid.outstanding_pence) == ("paid", 8000, 0)
    assert (paid.days_overdue, paid.overdue_pence, paid.bucket) == (0, 0, None)

    reversed_ = claim.position_as_at(date(2026, 6, 15))
    assert reversed_ is not None
    assert (reversed_.status, reversed_.paid_pence, reversed_.outstanding_pence) == (
        "part_paid",
        2000,
        6000,
    )
    assert reversed_.days_overdue == 44 and reversed_.bucket == "31-60"
    assert reversed_ == claim.position_as_at(date(2026, 6, 15))


def test_a_claim_queried_before_payment_due_is_not_overdue_and_its_due_date_moves() -> None:
    story = ClaimStory(on=SUBMITTED)
    story.then(story.claim.query("Which meeting?", by=APPROVER, today=date(2026, 4, 28)))
    queried = story.claim.position_as_at(date(2026, 5, 20))
    assert queried is not None
    assert queried.status == "queried"
    assert queried.payment_due == DUE + timedelta(days=22)
    assert (queried.days_overdue, queried.overdue_pence, queried.bucket) == (0, 0, "not_due")
    story.then(story.claim.answer("The board", by=SUBMITTER, today=date(2026, 5, 12)))
    answered = story.claim.position_as_at(date(2026, 6, 1))
    assert answered is not None
    # 14 days queried: due 16 May, overdue 16 days (awaiting approval).
    assert answered.payment_due == date(2026, 5, 16)
    assert (answered.days_overdue, answered.overdue_pence) == (16, 5000)


def test_a_query_raised_after_payment_due_stops_no_clock() -> None:
    """The payer was already late: a dispute must be raised without undue delay."""
    story = ClaimStory(on=SUBMITTED)
    story.then(story.claim.query("Which meeting?", by=APPROVER, today=date(2026, 5, 10)))
    queried = story.claim.position_as_at(date(2026, 5, 20))
    assert queried is not None
    assert (queried.status, queried.payment_due) == ("queried", DUE)
    assert (queried.days_overdue, queried.overdue_pence, queried.bucket) == (18, 5000, "1-30")
    story.then(story.claim.answer("The board", by=SUBMITTER, today=date(2026, 5, 24)))
    answered = story.claim.position_as_at(date(2026, 6, 1))
    assert answered is not None
    assert (answered.payment_due, answered.days_overdue) == (DUE, 30)


def test_a_query_on_the_due_day_still_counts() -> None:
    story = ClaimStory(on=SUBMITTED)
    story.then(story.claim.query("Which meeting?", by=APPROVER, today=DUE))
    story.then(story.claim.answer("The board", by=SUBMITTER, today=DUE + timedelta(days=4)))
    answered = story.claim.position_as_at(DUE + timedelta(days=10))
    assert answered is not None
    assert (answered.payment_due, answered.days_overdue) == (DUE + timedelta(days=4), 6)


def test_rejected_and_withdrawn_claims_owe_nothing() -> None:
    rejected = ClaimStory("c1", on=SUBMITTED)
    rejected.then(rejected.claim.reject("Out of scope", by=APPROVER, today=date(2026, 4, 3)))
    withdrawn = ClaimStory("c2", on=SUBMITTED)
    withdrawn.then(withdrawn.claim.withdraw(by=SUBMITTER, today=date(2026, 4, 3)))
    for story in (rejected, withdrawn):
        position = story.claim.position_as_at(date(2026, 9, 1))
        assert position is not None
        assert position.open_pence == 0
        assert (position.days_overdue, position.overdue_pence, position.bucket) == (0, 0, None)


def test_organisation_balance_sums_positions() -> None:
    as_at = DUE + timedelta(days=45)
    overdue = ClaimStory("c1", on=SUBMITTED).approved()  # 5000 outstanding, 45 days late
    partly = ClaimStory("c2", on=SUBMITTED).approved(amount=4000)
    partly.paid(1500, on=date(2026, 4, 20))  # 2500 outstanding, 45 days late
    fresh = ClaimStory("c3", on=as_at - timedelta(days=1))  # awaiting 5000, not due
    withdrawn = ClaimStory("c4", on=SUBMITTED)
    withdrawn.then(withdrawn.claim.withdraw(by=SUBMITTER, today=SUBMITTED))
    rejected = ClaimStory("c5", on=SUBMITTED)
    rejected.then(rejected.claim.reject("No", by=APPROVER, today=SUBMITTED))
    positions = [
        p
        for p in (
            s.claim.position_as_at(as_at) for s in (overdue, partly, fresh, withdrawn, rejected)
        )
        if p is not None
    ]
    summary = organisation_balance(positions)
    assert summary == {
        "claims": 4,
        "claimed_pence": 20000,
        "approved_pence": 9000,
        "paid_pence": 1500,
        "outstanding_pence": 7500,
        "awaiting_approval_pence": 5000,
        "overdue_pence": 7500,
        "aging": {"not_due": 5000, "1-30": 0, "31-60": 7500, "61-90": 0, "90+": 0},
    }
    assert summary["approved_pence"] - summary["paid_pence"] == summary["outstanding_pence"]
    assert sum(summary["aging"].values()) == (
        summary["outstanding_pence"] + summary["awaiting_approval_pence"]
    )
    assert tuple(summary["aging"]) == AGING_BUCKETS
    empty = organisation_balance([])
    assert empty["claims"] == 0 and sum(empty["aging"].values()) == 0


def test_fixed_contributions_summed_ahead_give_the_same_balance() -> None:
    """Settled claims' figures are the same on every later day (`Position.figures_fixed`), so
    a balance from their sums plus the open claims' positions equals summing every position;
    one settled only after the day asked is taken out of the sums and evaluated instead."""
    paid = ClaimStory("c1", on=SUBMITTED).approved()
    paid.paid(5000, on=date(2026, 4, 20))
    rejected = ClaimStory("c2", on=SUBMITTED)
    rejected.then(rejected.claim.reject("No", by=APPROVER, today=SUBMITTED))
    withdrawn = ClaimStory("c3", on=SUBMITTED)
    withdrawn.then(withdrawn.claim.withdraw(by=SUBMITTER, today=SUBMITTED))
    late = ClaimStory("c4", on=SUBMITTED).approved(amount=4000)  # open: overdue after DUE
    settled_late = ClaimStory("c5", on=SUBMITTED).approved()
    settled_late.paid(5000, on=DUE + timedelta(days=40))
    stories = (paid, rejected, withdrawn, late, settled_late)
    final = {s.claim.id: s.claim.position_as_at(DUE + timedelta(days=400)) for s in stories}
    assert {claim_id for claim_id, p in final.items() if p is not None and p.figures_fixed} == {
        "c1",
        "c2",
        "c3",
        "c5",
    }
    fixed: dict[str, int] = {}
    for position in final.values():
        for name, value in (fixed_contribution(position) or {}).items():
            fixed[name] = fixed.get(name, 0) + value
    for as_at in (DUE - timedelta(days=5), DUE + timedelta(days=20), DUE + timedelta(days=60)):
        every = [p for p in (s.claim.position_as_at(as_at) for s in stories) if p is not None]
        evaluated = [p for p in every if p.claim_id in ("c4", "c5")]
        taken_out = [p for p in final.values() if p is not None and p.claim_id == "c5"]
        assert organisation_balance(
            evaluated, fixed=fixed, not_fixed_since=taken_out
        ) == organisation_balance(every), as_at
