"""Payment reminders around payment due: the schedule's levels, the dispute clock, partial and
full payment, reversals, and claims nobody approved."""

from __future__ import annotations

from datetime import date

import pytest

from services.notifier.rules import PAYMENT_DUE_SOON, PAYMENT_OVERDUE, claim_alerts
from services.notifier.rules.candidates import AlertCandidate
from tests.unit.notifier.rules_builders import NAMES, PAYEE, PAYER, ClaimStory, submit, terms

SUBMITTED = date(2026, 3, 2)  # Mon; + 30 days: payment due Wed 1 Apr 2026
DUE = date(2026, 4, 1)


def reminders(story: ClaimStory, as_of: date) -> list[AlertCandidate]:
    return [
        c
        for c in claim_alerts(story.timeline, story.agreement, as_of, NAMES)
        if c.kind in (PAYMENT_DUE_SOON, PAYMENT_OVERDUE)
    ]


def reminder(story: ClaimStory, as_of: date) -> tuple[str, str] | None:
    found = reminders(story, as_of)
    assert len(found) <= 1, "at most one payment reminder holds at a time"
    return (found[0].kind, found[0].level) if found else None


def approved_claim() -> ClaimStory:
    return submit(SUBMITTED).approve(date(2026, 3, 5))


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 3, 28), None),
        (date(2026, 3, 29), (PAYMENT_DUE_SOON, "d-3")),
        (date(2026, 4, 1), (PAYMENT_DUE_SOON, "d-3")),  # due today: not yet overdue
        (date(2026, 4, 2), (PAYMENT_OVERDUE, "d+1")),
        (date(2026, 4, 7), (PAYMENT_OVERDUE, "d+1")),
        (date(2026, 4, 8), (PAYMENT_OVERDUE, "d+7")),
        (date(2026, 4, 15), (PAYMENT_OVERDUE, "d+14")),
        (date(2026, 4, 22), (PAYMENT_OVERDUE, "d+21")),
        (date(2026, 6, 30), (PAYMENT_OVERDUE, "d+21")),
    ],
)
def test_each_level_of_the_default_schedule(as_of: date, expected: tuple[str, str] | None) -> None:
    story = approved_claim()
    assert story.timeline.state_as_at(as_of).payment_due == DUE  # type: ignore[union-attr]
    assert reminder(story, as_of) == expected


def test_a_late_run_raises_only_the_newest_level_passed() -> None:
    # Nothing ran between 1 Apr and 16 Apr: d+14 holds; d+1 and d+7 are not raised now.
    assert [c.level for c in reminders(approved_claim(), date(2026, 4, 16))] == ["d+14"]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 3, 24), None),
        (date(2026, 3, 25), (PAYMENT_DUE_SOON, "d-7")),
        (date(2026, 4, 1), (PAYMENT_DUE_SOON, "d+0")),
        (date(2026, 4, 3), (PAYMENT_DUE_SOON, "d+0")),
        (date(2026, 4, 4), (PAYMENT_OVERDUE, "d+3")),
        (date(2026, 4, 11), (PAYMENT_OVERDUE, "d+10")),
    ],
)
def test_a_custom_schedule(as_of: date, expected: tuple[str, str] | None) -> None:
    story = submit(SUBMITTED, agreement=terms(reminder_schedule=(10, -7, 0, 3))).approve(
        date(2026, 3, 5)
    )
    assert reminder(story, as_of) == expected


def test_an_overdue_claim_reads_overdue_even_under_a_due_soon_level() -> None:
    story = submit(SUBMITTED, agreement=terms(reminder_schedule=(-7, 0, 3))).approve(
        date(2026, 3, 5)
    )
    [alert] = reminders(story, date(2026, 4, 3))
    assert (alert.kind, alert.level) == (PAYMENT_DUE_SOON, "d+0")
    assert alert.title == "Payment overdue: Hope Street Community Trust — £237.40, 2 days late"


def test_due_today_wording_and_audience() -> None:
    story = submit(SUBMITTED, agreement=terms(reminder_schedule=(0,))).approve(date(2026, 3, 5))
    [alert] = reminders(story, DUE)
    assert alert.title == "Payment due today: Hope Street Community Trust — £237.40"
    assert [(r.organisation_id, r.roles, r.copy) for r in alert.audience] == [
        (PAYER, ("finance",), False),
        (PAYEE, ("vcse_admin", "vcse_member"), True),
    ]


def test_the_overdue_title_says_how_much_and_how_late() -> None:
    [alert] = reminders(approved_claim(), date(2026, 4, 16))
    assert alert.title == "Payment overdue: Hope Street Community Trust — £237.40, 15 days late"
    assert alert.detail["days_overdue"] == 15
    assert alert.detail["open_pence"] == 23740
    assert alert.detail["payment_due"] == "2026-04-01"
    assert alert.claim_id == alert.subject_id


def test_a_query_pauses_the_payment_clock_and_stops_reminders_while_queried() -> None:
    story = submit(SUBMITTED)
    assert reminder(story, date(2026, 3, 29)) == (PAYMENT_DUE_SOON, "d-3")
    story.query(date(2026, 3, 30))
    # Queried: no reminders, however late the unpaused clock would be.
    assert reminder(story, date(2026, 4, 2)) is None
    assert reminder(story, date(2026, 4, 9)) is None
    story.answer(date(2026, 4, 9))  # 10 days queried: payment due moves to Sat 11 Apr
    state = story.timeline.state_as_at(date(2026, 4, 9))
    assert state is not None and state.payment_due == date(2026, 4, 11)
    assert reminder(story, date(2026, 4, 9)) == (PAYMENT_DUE_SOON, "d-3")
    assert reminder(story, date(2026, 4, 11)) == (PAYMENT_DUE_SOON, "d-3")
    assert reminder(story, date(2026, 4, 12)) == (PAYMENT_OVERDUE, "d+1")
    assert reminder(story, date(2026, 4, 18)) == (PAYMENT_OVERDUE, "d+7")


def test_an_amendment_answering_the_query_restarts_reminders_with_the_new_amount() -> None:
    story = submit(SUBMITTED).query(date(2026, 3, 10)).amend(date(2026, 3, 15), 20000, True)
    # 5 days queried: due Mon 6 Apr.
    assert reminder(story, date(2026, 4, 6)) == (PAYMENT_DUE_SOON, "d-3")
    [alert] = reminders(story, date(2026, 4, 7))
    assert (alert.level, alert.detail["open_pence"]) == ("d+1", 20000)


def test_claims_waiting_for_approval_are_reminded_too() -> None:
    story = submit(SUBMITTED)  # never approved
    [alert] = reminders(story, date(2026, 4, 2))
    assert alert.kind == PAYMENT_OVERDUE
    assert alert.detail["awaiting_approval"] is True
    assert alert.detail["open_pence"] == 23740


def test_a_part_payment_keeps_reminders_going_with_the_open_amount() -> None:
    story = approved_claim().pay(date(2026, 4, 1), 10000)
    [alert] = reminders(story, date(2026, 4, 2))
    assert alert.detail["open_pence"] == 13740
    assert alert.title == "Payment overdue: Hope Street Community Trust — £137.40, 1 day late"


def test_a_partial_approval_paid_in_full_stops_reminders() -> None:
    story = submit(SUBMITTED).approve(date(2026, 3, 5), 20000).pay(date(2026, 4, 5), 20000)
    assert reminder(story, date(2026, 4, 4)) == (PAYMENT_OVERDUE, "d+1")
    assert reminder(story, date(2026, 4, 5)) is None
    assert reminder(story, date(2026, 5, 5)) is None


def test_full_payment_stops_reminders_and_a_reversal_resumes_them() -> None:
    story = approved_claim().pay(date(2026, 4, 1), 10000).pay(date(2026, 4, 3), 13740)
    assert reminder(story, date(2026, 4, 2)) == (PAYMENT_OVERDUE, "d+1")
    assert reminder(story, date(2026, 4, 3)) is None
    assert reminder(story, date(2026, 4, 10)) is None
    story.reverse(date(2026, 4, 12), 13740)  # the second payment bounced
    assert reminder(story, date(2026, 4, 11)) is None
    [alert] = reminders(story, date(2026, 4, 12))
    assert (alert.kind, alert.level, alert.detail["open_pence"]) == (PAYMENT_OVERDUE, "d+7", 13740)


@pytest.mark.parametrize("end", ["reject", "withdraw"])
def test_rejected_and_withdrawn_claims_are_never_reminded(end: str) -> None:
    story = submit(SUBMITTED)
    getattr(story, end)(date(2026, 3, 20))
    for as_of in (date(2026, 3, 29), date(2026, 4, 2), date(2026, 5, 1)):
        assert reminders(story, as_of) == []


def test_a_claim_approved_at_nothing_has_nothing_to_remind() -> None:
    story = submit(SUBMITTED).approve(date(2026, 3, 5), 0)
    assert reminders(story, date(2026, 4, 10)) == []
