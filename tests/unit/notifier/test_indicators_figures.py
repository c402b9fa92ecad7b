"""Equity indicators over a small, hand-checked history (Q1 2026, one payer)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.notifier.indicators import Period, Scope, compute_indicators
from services.notifier.interest import BaseRate, BaseRateHistory
from services.notifier.model import ClaimTimeline, Fact
from tests.unit.notifier.rules_builders import claim_timeline

RATES = BaseRateHistory((BaseRate(date(2024, 1, 1), Decimal("4.00")),))
Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))


def claim(
    claim_id: str, submitted_on: date, amount: int, *facts: Fact, payer: str = "icb"
) -> ClaimTimeline:
    return claim_timeline(claim_id, submitted_on, amount, *facts, payer=payer)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


def paid(on: date, amount: int) -> Fact:
    return Fact("paid", on, amount, payment_id=f"pay-{on}", text="BACS")


HISTORY = [
    # approve in 3 days, pay in 18: due 1 Feb, on time
    claim("a", d(1, 2), 10_000, Fact("approved", d(1, 5), 10_000), paid(d(1, 20), 10_000)),
    # approve in 10, pay in 38: due 2 Feb, late by 8 days
    claim("b", d(1, 3), 20_000, Fact("approved", d(1, 13), 20_000), paid(d(2, 10), 20_000)),
    # half approved in 2, paid in 5: due 9 Feb, on time
    claim("c", d(1, 10), 30_000, Fact("approved", d(1, 12), 15_000), paid(d(1, 15), 15_000)),
    # never approved: due 3 March, 28 days overdue at the end of March
    claim("d", d(2, 1), 40_000),
    # due in April
    claim("e", d(3, 20), 5_000),
    # withdrawn: not claimed
    claim("f", d(1, 4), 6_000, Fact("withdrawn", d(1, 6))),
    # another payer: out of the payer scope
    claim("g", d(1, 2), 70_000, payer="council"),
]


ICB = Scope(payer_id="icb")


def figures(scope: Scope = ICB) -> dict[str, Any]:
    indicators = compute_indicators(HISTORY, scope, Q1, RATES)
    return {figure.key: figure.value for figure in indicators.figures}


def test_volumes_in_hours_and_pounds() -> None:
    values = figures()

    assert values["hours_claimed"] == Decimal("20.00")  # a–e, 4 hours each
    assert values["claimed_pence"] == 105_000
    assert values["hours_approved"] == Decimal("10.00")  # 4 + 4 + half of 4
    assert values["approved_pence"] == 45_000
    assert values["hours_paid"] == Decimal("10.00")
    assert values["paid_pence"] == 45_000


def test_positions_at_the_end_of_the_period() -> None:
    values = figures()

    assert values["outstanding_pence"] == 45_000  # d and e, both awaiting approval
    assert values["awaiting_approval_pence"] == 45_000
    assert values["overdue_pence"] == 40_000
    assert values["overdue_hours"] == Decimal("4.00")


def test_paid_within_terms_by_number_and_by_value() -> None:
    values = figures()

    # due in Q1: a, b, c, d; on time: a and c
    assert values["paid_within_terms_by_number_percent"] == Decimal("50.0")
    # (10000 + 15000) / (10000 + 20000 + 15000 + 40000)
    assert values["paid_within_terms_by_value_percent"] == Decimal("29.4")


def test_medians_and_90th_percentiles() -> None:
    values = figures()

    assert values["median_days_to_approve"] == Decimal(3)  # 3, 10, 2
    assert values["p90_days_to_approve"] == 10
    assert values["median_days_to_pay"] == Decimal(18)  # 18, 38, 5
    assert values["p90_days_to_pay"] == 38
    assert values["average_days_to_pay"] == Decimal("20.3")
    assert values["paid_within_30_days_percent"] == Decimal("66.7")
    assert values["paid_within_5_days_percent"] == Decimal("33.3")


def test_interest_accrued_in_the_period() -> None:
    values = figures()

    # b: 8 days on £200 at 12% = 52.6p; d: 28 days on £400 = 368.2p
    assert values["interest_accrued_pence"] == 53 + 368
    assert values["compensation_pence"] == 4000 + 4000


def test_interest_in_a_later_period_counts_only_its_own_days() -> None:
    april = compute_indicators(
        HISTORY, Scope(payer_id="icb"), Period(d(4, 1), d(4, 10)), RATES
    ).figure("interest_accrued_pence")
    # d: 10 more days on £400 (total to 10 April is 38 days: 499.7 → 500, less 368)
    assert april.value == 500 - 368


def test_each_figure_carries_its_benchmarks() -> None:
    indicators = compute_indicators(HISTORY, Scope(payer_id="icb"), Q1, RATES)
    document = indicators.to_json()["figures"]

    on_time = document["paid_within_terms_by_number_percent"]
    assert on_time["value"] == 50
    assert on_time["benchmarks"] == [
        {
            "benchmark": "NHS Better Payment Practice Code: 95% of invoices paid within 30 days",
            "key": "nhs_bppc",
            "target": 95,
            "unit": "percent",
            "comparison": "at_least",
            "met": False,
        }
    ]
    median_pay = {b["key"]: b["met"] for b in document["median_days_to_pay"]["benchmarks"]}
    assert median_pay == {"statutory_30_days": True, "compact_10_days": False}
    p90 = {b["key"]: (b["target"], b["met"]) for b in document["p90_days_to_pay"]["benchmarks"]}
    assert p90 == {"statutory_30_days": (30, False), "central_government_5_days": (5, False)}
    within_5 = document["paid_within_5_days_percent"]["benchmarks"][0]
    assert (within_5["key"], within_5["target"], within_5["met"]) == (
        "central_government_5_days",
        90,
        False,
    )
    assert all(figure["definition"] for figure in document.values())


def test_no_claims_means_no_figure_rather_than_zero() -> None:
    empty = compute_indicators([], Scope(partnership_id="p1"), Q1, RATES)
    document = empty.to_json()["figures"]

    assert document["median_days_to_pay"]["value"] is None
    assert document["median_days_to_pay"]["benchmarks"][0]["met"] is None
    assert document["paid_within_terms_by_number_percent"]["value"] is None
    assert document["claimed_pence"]["value"] == 0


@pytest.mark.parametrize(
    ("scope", "claimed"),
    [
        (Scope(partnership_id="p1"), 175_000),
        (Scope(payer_id="council"), 70_000),
        (Scope(payee_id="hope", payer_id="icb"), 105_000),
        (Scope(payee_id="someone-else"), 0),
    ],
)
def test_any_scope(scope: Scope, claimed: int) -> None:
    assert figures(scope)["claimed_pence"] == claimed


def test_positions_as_at_today_when_the_period_has_not_ended() -> None:
    indicators = compute_indicators(HISTORY, Scope(payer_id="icb"), Q1, RATES, as_at=d(2, 5))

    assert indicators.as_at == d(2, 5)
    # d (due 3 March) is open but not yet overdue on 5 February; b is 3 days late.
    assert indicators.figure("overdue_pence").value == 20_000


def test_chart_series() -> None:
    series = compute_indicators(HISTORY, Scope(payer_id="icb"), Q1, RATES).series

    histogram = {b["bin"]: b["claims"] for b in series["days_to_pay_histogram"]}
    assert histogram == {"0-5": 1, "6-10": 0, "11-30": 1, "31-60": 1, "61-90": 0, "90+": 0}
    aging = {p["as_at"]: p["buckets"] for p in series["aging_by_month_end"]}
    assert list(aging) == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert aging["2026-01-31"]["not_due"] == 20_000
    assert aging["2026-02-28"]["not_due"] == 40_000
    assert (aging["2026-03-31"]["not_due"], aging["2026-03-31"]["1-30"]) == (5_000, 40_000)
    months = {
        p["month"]: (p["due"], p["on_time_percent"], p["met"]) for p in series["on_time_by_month"]
    }
    assert months == {
        "2026-01": (0, None, None),
        "2026-02": (3, 66.7, False),
        "2026-03": (1, 0, False),
    }
    assert {p["target_percent"] for p in series["on_time_by_month"]} == {95}


APRIL = Period(date(2026, 4, 1), date(2026, 4, 30))


def on_time_figures(timelines: list[ClaimTimeline], as_at: date) -> tuple[Any, Any, Any]:
    indicators = compute_indicators(timelines, ICB, APRIL, RATES, as_at=as_at)
    figure = indicators.figure("paid_within_terms_by_number_percent")
    (month,) = indicators.series["on_time_by_month"]
    return figure.value, figure.count, (month["due"], month["on_time_percent"])


def test_a_claim_not_yet_due_is_not_judged_late() -> None:
    """Period 1–30 April asked on 15 April: a claim due 25 April and unpaid is not late."""
    not_due = claim("x", d(3, 26), 10_000, Fact("approved", d(3, 30), 10_000))  # due 25 April
    on_time = claim(
        "y", d(3, 5), 10_000, Fact("approved", d(3, 6), 10_000), paid(d(4, 3), 10_000)
    )  # due 4 April, paid 3 April
    assert on_time_figures([not_due, on_time], d(4, 15)) == (Decimal("100.0"), 1, (1, 100))
    # Once 25 April has passed unpaid it is late, in the figure and in the monthly series.
    assert on_time_figures([not_due, on_time], d(5, 15)) == (Decimal("50.0"), 2, (2, 50))


def test_a_claim_due_today_and_unpaid_is_not_late_in_indicators_ending_today() -> None:
    due_today = claim("x", d(3, 16), 10_000, Fact("approved", d(3, 17), 10_000))  # due 15 April
    assert on_time_figures([due_today], d(4, 15)) == (None, 0, (0, None))
    assert on_time_figures([due_today], d(4, 16)) == (Decimal("0.0"), 1, (1, 0))


def test_days_to_pay_sits_beside_the_claims_still_unpaid_past_due() -> None:
    values = figures()
    # At the end of March only d (never approved, due 3 March) is unpaid past due: 58 days
    # since receipt on 1 February.
    assert values["unpaid_past_due_claims"] == 1
    assert values["oldest_unpaid_past_due_age_days"] == 58
    indicators = compute_indicators(HISTORY, ICB, Q1, RATES)
    (h1,) = [r for r in indicators.payment_practices if r.period.start == d(1, 1)]
    assert (h1.unpaid_past_due_invoices, h1.oldest_unpaid_past_due_age_days) == (1, 58)
    assert h1.to_json()["unpaid_past_due_invoices"] == 1
