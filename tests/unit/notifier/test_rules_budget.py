"""Budget thresholds: approved + pending reaching 80% and 100% of an agreement's budget."""

from __future__ import annotations

from datetime import date

from services.notifier.rules import BUDGET_THRESHOLD, budget_alerts, committed_pence
from tests.unit.notifier.rules_builders import NAMES, PAYEE, PAYER, ClaimStory, submit, terms

BUDGETED = terms(budget_pence=100_000)
DAY = date(2026, 5, 1)


def levels(stories: list[ClaimStory], as_of: date = DAY) -> list[str]:
    committed = committed_pence((s.timeline for s in stories), as_of)
    return [c.level for c in budget_alerts(BUDGETED, committed, as_of, NAMES)]


def test_under_80_percent_nothing() -> None:
    assert levels([submit(date(2026, 4, 1), 79_999, BUDGETED)]) == []


def test_80_then_100_percent() -> None:
    stories = [submit(date(2026, 4, 1), 50_000, BUDGETED)]
    assert levels(stories) == []
    stories.append(submit(date(2026, 4, 2), 30_000, BUDGETED))
    assert levels(stories) == ["80"]
    stories.append(submit(date(2026, 4, 3), 20_000, BUDGETED))
    assert levels(stories) == ["100"]
    assert levels(stories, date(2026, 4, 2)) == ["80"]  # as at an earlier day


def test_approved_counts_the_approved_amount_and_paid_claims_still_count() -> None:
    paid = (
        submit(date(2026, 3, 2), 60_000, BUDGETED)
        .approve(date(2026, 3, 5))
        .pay(date(2026, 3, 20), 60_000)
    )
    partial = submit(date(2026, 4, 1), 40_000, BUDGETED).approve(date(2026, 4, 3), 30_000)
    assert committed_pence([paid.timeline, partial.timeline], DAY) == 90_000
    assert levels([paid, partial]) == ["80"]


def test_rejected_and_withdrawn_claims_release_the_budget() -> None:
    big = submit(date(2026, 4, 1), 100_000, BUDGETED)
    assert levels([big]) == ["100"]
    big.reject(date(2026, 4, 20))
    assert levels([big]) == []
    gone = submit(date(2026, 4, 1), 85_000, BUDGETED).withdraw(date(2026, 4, 2))
    assert levels([gone]) == []


def test_queried_claims_are_pending() -> None:
    assert levels([submit(date(2026, 4, 1), 80_000, BUDGETED).query(date(2026, 4, 2))]) == ["80"]


def test_the_alert_goes_to_both_sides() -> None:
    [alert] = budget_alerts(BUDGETED, 80_000, DAY, NAMES)
    assert alert.kind == BUDGET_THRESHOLD
    assert alert.identity == ("a1", BUDGET_THRESHOLD, "80")
    assert alert.agreement_id == "a1" and alert.claim_id is None
    assert {r.organisation_id for r in alert.audience} == {PAYER, PAYEE}
    assert alert.detail["remaining_pence"] == 20_000
    assert alert.title == (
        "Budget 80% reached: North ICB and Hope Street Community Trust — "
        "£800.00 of £1,000.00 committed"
    )


def test_no_budget_no_alert() -> None:
    assert budget_alerts(terms(budget_pence=None), 10**9, DAY) == []
