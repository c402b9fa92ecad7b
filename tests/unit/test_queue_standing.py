"""A claim's standing in its payer's queue: working days left on the approval SLA (the
agreement's nation's calendar) and calendar days left to payment due (the claim's position,
with the dispute clock)."""

from __future__ import annotations

from datetime import date, timedelta

from services.ledger.queue import NOT_OPEN, standing
from tests.unit.builders import APPROVER, ClaimStory, agreement

# Thursday 17 December 2026: approval due 5 working days later skips the weekend and
# Christmas Day and Boxing Day's substitute (Monday 28th) in England: Thursday 31st.
SUBMITTED = date(2026, 12, 17)


def test_working_days_left_skip_weekends_and_bank_holidays() -> None:
    claim = ClaimStory(
        on=SUBMITTED,
        lines=[
            {
                "worked_on": "2026-12-16",
                "hours": "2",
                "activity": "meeting",
                "worker": "Amina Khan",
                "description": "Board",
            }
        ],
    ).claim
    assert claim.approval_due == date(2026, 12, 24)
    today = SUBMITTED + timedelta(days=1)  # Friday 18th
    got = standing(claim.position_as_at(today), today, "england", (2, 3))
    assert got.to_json() == {
        "place": 2,
        "of": 3,
        "approval_working_days_left": 4,  # 21, 22, 23, 24 December
        "payment_days_left": (claim.payment_due(today) - today).days,
    }
    assert got.payment_days_left == 29


def test_late_is_negative_and_a_decided_claim_has_no_approval_clock() -> None:
    story = ClaimStory(on=date(2026, 4, 2))
    # Approval was due Monday 13 April: Good Friday (3rd) and Easter Monday (6th) skipped.
    assert story.claim.approval_due == date(2026, 4, 13)
    late = date(2026, 4, 20)
    got = standing(story.claim.position_as_at(late), late, "england", None)
    assert got.place is None
    assert got.approval_working_days_left == -5  # 14, 15, 16, 17 and 20 April
    story.approved(on=date(2026, 4, 21))
    decided = date(2026, 4, 22)
    after = standing(story.claim.position_as_at(decided), decided, "england", None)
    assert after.approval_working_days_left is None
    assert after.payment_days_left == (date(2026, 5, 2) - decided).days


def test_a_claim_that_owes_nothing_has_no_standing() -> None:
    story = ClaimStory(on=date(2026, 4, 2))
    story.then(story.claim.reject("Out of scope", by=APPROVER, today=date(2026, 4, 3)))
    day = date(2026, 4, 4)
    assert standing(story.claim.position_as_at(day), day, "england", None) == NOT_OPEN
    assert standing(None, day, "england", None) == NOT_OPEN


def test_the_nation_decides_the_working_days() -> None:
    # St Andrew's Day (Monday 30 November 2026) is a bank holiday in Scotland only.
    scottish = agreement(nation="scotland")
    claim = ClaimStory(
        on=date(2026, 11, 26),
        under=scottish,
        lines=[
            {
                "worked_on": "2026-11-25",
                "hours": "2",
                "activity": "meeting",
                "worker": "Amina Khan",
                "description": "Board",
            }
        ],
    ).claim
    today = date(2026, 11, 27)
    scotland = standing(claim.position_as_at(today), today, "scotland", None)
    england = standing(claim.position_as_at(today), today, "england", None)
    assert england.approval_working_days_left is not None
    assert scotland.approval_working_days_left == england.approval_working_days_left - 1
