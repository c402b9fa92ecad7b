"""Approval alerts on real UK calendars: due soon from the working day before approval due,
overdue after it, never paused by a query."""

from __future__ import annotations

from datetime import date

import pytest

from services.notifier.rules import APPROVAL_DUE_SOON, APPROVAL_OVERDUE, claim_alerts
from tests.unit.notifier.rules_builders import NAMES, PAYER, ClaimStory, submit, terms


def approval_kinds(story: ClaimStory, as_of: date) -> list[str]:
    return [
        c.kind
        for c in claim_alerts(story.timeline, story.agreement, as_of, NAMES)
        if c.kind in (APPROVAL_DUE_SOON, APPROVAL_OVERDUE)
    ]


def test_easter_2026_moves_approval_due_in_england_but_not_monday_in_scotland() -> None:
    # Tue 31 Mar + 5 working days. England (Good Friday and Easter Monday off): Thu 9 Apr.
    # Scotland (Good Friday only): Wed 8 Apr.
    england = submit(date(2026, 3, 31), agreement=terms(nation="england"))
    scotland = submit(date(2026, 3, 31), agreement=terms(nation="scotland"))
    assert england.timeline.approval_due == date(2026, 4, 9)
    assert scotland.timeline.approval_due == date(2026, 4, 8)

    assert approval_kinds(england, date(2026, 4, 6)) == []
    assert approval_kinds(scotland, date(2026, 4, 6)) == []  # Mon 6: 2 Scottish days to go
    assert approval_kinds(england, date(2026, 4, 7)) == []
    assert approval_kinds(scotland, date(2026, 4, 7)) == [APPROVAL_DUE_SOON]
    assert approval_kinds(england, date(2026, 4, 8)) == [APPROVAL_DUE_SOON]
    assert approval_kinds(england, date(2026, 4, 9)) == [APPROVAL_DUE_SOON]  # due today
    assert approval_kinds(scotland, date(2026, 4, 9)) == [APPROVAL_OVERDUE]
    assert approval_kinds(england, date(2026, 4, 10)) == [APPROVAL_OVERDUE]


def test_easter_weekend_brings_due_soon_forward_by_four_days() -> None:
    # Tue 31 Mar + 3 English working days = Tue 7 Apr; the working day before it is Thu 2 Apr.
    story = submit(date(2026, 3, 31), agreement=terms(approval_sla_working_days=3))
    assert story.timeline.approval_due == date(2026, 4, 7)
    assert approval_kinds(story, date(2026, 4, 1)) == []
    assert approval_kinds(story, date(2026, 4, 2)) == [APPROVAL_DUE_SOON]
    assert approval_kinds(story, date(2026, 4, 6)) == [APPROVAL_DUE_SOON]


def test_st_patricks_day_in_northern_ireland() -> None:
    # Fri 13 Mar + 5 working days: England Fri 20 Mar; Northern Ireland (17 Mar off) Mon 23.
    england = submit(date(2026, 3, 13), agreement=terms(nation="england"))
    ulster = submit(date(2026, 3, 13), agreement=terms(nation="northern_ireland"))
    assert england.timeline.approval_due == date(2026, 3, 20)
    assert ulster.timeline.approval_due == date(2026, 3, 23)
    assert approval_kinds(england, date(2026, 3, 19)) == [APPROVAL_DUE_SOON]
    assert approval_kinds(ulster, date(2026, 3, 19)) == []
    assert approval_kinds(england, date(2026, 3, 23)) == [APPROVAL_OVERDUE]
    assert approval_kinds(ulster, date(2026, 3, 23)) == [APPROVAL_DUE_SOON]
    assert approval_kinds(ulster, date(2026, 3, 24)) == [APPROVAL_OVERDUE]


def test_christmas_2026_boxing_day_observed_on_monday_28_december() -> None:
    # Fri 18 Dec + 5: Mon 21 … Thu 24, (Fri 25 Christmas, Mon 28 Boxing Day substitute),
    # Tue 29. From Thu 24 the next working day is the due day: due soon before the break.
    story = submit(date(2026, 12, 18))
    assert story.timeline.approval_due == date(2026, 12, 29)
    assert approval_kinds(story, date(2026, 12, 23)) == []
    assert approval_kinds(story, date(2026, 12, 24)) == [APPROVAL_DUE_SOON]
    assert approval_kinds(story, date(2026, 12, 28)) == [APPROVAL_DUE_SOON]
    assert approval_kinds(story, date(2026, 12, 30)) == [APPROVAL_OVERDUE]


def test_overdue_counts_working_days_late() -> None:
    story = submit(date(2026, 3, 31))  # due Thu 9 Apr
    [alert] = claim_alerts(story.timeline, story.agreement, date(2026, 4, 14), NAMES)
    assert alert.kind == APPROVAL_OVERDUE
    assert alert.level == "1"
    assert alert.detail["working_days_late"] == 3  # Fri 10, Mon 13, Tue 14
    assert (
        alert.title
        == "Approval overdue: Hope Street Community Trust — £237.40, 3 working days late"
    )
    assert [r.organisation_id for r in alert.audience] == [PAYER]
    assert alert.audience[0].roles == ("approver",)
    assert alert.identity == (story.id, APPROVAL_OVERDUE, "1")


def test_a_query_does_not_pause_the_approval_clock_and_is_flagged() -> None:
    story = submit(date(2026, 3, 31)).query(date(2026, 4, 13))  # queried after the SLA
    [alert] = [
        c
        for c in claim_alerts(story.timeline, story.agreement, date(2026, 4, 14), NAMES)
        if c.kind == APPROVAL_OVERDUE
    ]
    assert alert.detail["while_queried"] is True
    assert alert.detail["queried_after_due"] is True
    assert alert.title.endswith("(queried)")


def test_a_query_inside_the_sla_is_not_flagged_as_late() -> None:
    story = submit(date(2026, 3, 31)).query(date(2026, 4, 1))
    [alert] = [
        c
        for c in claim_alerts(story.timeline, story.agreement, date(2026, 4, 10), NAMES)
        if c.kind == APPROVAL_OVERDUE
    ]
    assert alert.detail["while_queried"] is True
    assert alert.detail["queried_after_due"] is False


@pytest.mark.parametrize("decide", ["approve", "reject", "withdraw"])
def test_a_decision_ends_the_approval_alerts(decide: str) -> None:
    story = submit(date(2026, 3, 31))
    getattr(story, decide)(date(2026, 4, 10))
    assert approval_kinds(story, date(2026, 4, 9)) == [APPROVAL_DUE_SOON]  # as it was then
    assert approval_kinds(story, date(2026, 4, 10)) == []
    assert approval_kinds(story, date(2026, 5, 1)) == []


def test_nothing_before_submission() -> None:
    story = submit(date(2026, 3, 31))
    assert claim_alerts(story.timeline, story.agreement, date(2026, 3, 30), NAMES) == []
