"""The six-monthly payment practices report per payer."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from services.notifier.indicators import Period, Scope, compute_indicators
from services.notifier.indicators.practices import half_year, half_years
from services.notifier.interest import BaseRate, BaseRateHistory
from services.notifier.model import ClaimTimeline, Fact
from tests.unit.notifier.rules_builders import claim_timeline

RATES = BaseRateHistory((BaseRate(date(2024, 1, 1), Decimal("4.00")),))


def paid_claim(claim_id: str, submitted_on: date, days_to_pay: int, payer: str) -> ClaimTimeline:
    paid_on = submitted_on + timedelta(days=days_to_pay)
    return claim_timeline(
        claim_id,
        submitted_on,
        1_000,
        Fact("approved", submitted_on, 1_000),
        Fact("paid", paid_on, 1_000, payment_id=f"p-{claim_id}", text="BACS"),
        payer=payer,
        hours="1",
    )


def test_half_years() -> None:
    assert half_year(date(2026, 6, 30)) == Period(date(2026, 1, 1), date(2026, 6, 30))
    assert half_year(date(2026, 7, 1)) == Period(date(2026, 7, 1), date(2026, 12, 31))
    assert half_years(Period(date(2026, 3, 1), date(2027, 2, 1))) == [
        Period(date(2026, 1, 1), date(2026, 6, 30)),
        Period(date(2026, 7, 1), date(2026, 12, 31)),
        Period(date(2027, 1, 1), date(2027, 6, 30)),
    ]


def test_report_per_payer_and_half_year_with_shares_rounded_half_up() -> None:
    start = date(2026, 1, 5)
    days = [3, 10, 30, 31, 45, 60, 61, 90, 12]
    timelines = [paid_claim(f"icb{i}", start, n, "icb") for i, n in enumerate(days)]
    timelines.append(paid_claim("late-h2", date(2026, 6, 20), 20, "icb"))  # paid in July
    timelines.append(paid_claim("other", start, 5, "council"))

    indicators = compute_indicators(
        timelines, Scope(partnership_id="p1"), Period(date(2026, 1, 1), date(2026, 12, 31)), RATES
    )
    reports = {(r.payer_id, r.period.start.month): r for r in indicators.payment_practices}

    assert sorted(reports) == [("council", 1), ("council", 7), ("icb", 1), ("icb", 7)]
    h1 = reports[("icb", 1)]
    assert h1.invoices_paid == 9
    assert h1.value_paid_pence == 9_000
    assert h1.average_days_to_pay == Decimal("38.0")  # 342 / 9
    # within 30: 3, 10, 30, 12 (4); 31–60: 31, 45, 60 (3); over 60: 61, 90 (2)
    # 44.44…, 33.33…, 22.22…: each rounded half up on its own, as every percentage is
    assert h1.paid_within_30_days_percent == Decimal("44.4")
    assert h1.paid_in_31_to_60_days_percent == Decimal("33.3")
    assert h1.paid_after_60_days_percent == Decimal("22.2")
    assert h1.complete
    assert reports[("icb", 7)].invoices_paid == 1
    assert reports[("council", 7)].invoices_paid == 0
    assert reports[("council", 7)].average_days_to_pay is None

    document = h1.to_json()
    assert document["period"] == {"start": "2026-01-01", "end": "2026-06-30"}
    assert document["paid_within_30_days_percent"]["benchmarks"][0]["met"] is False
    assert document["average_days_to_pay"]["value"] == 38


def test_a_half_year_in_progress_is_marked_incomplete() -> None:
    timelines = [paid_claim("a", date(2026, 1, 5), 10, "icb")]

    indicators = compute_indicators(
        timelines,
        Scope(payer_id="icb"),
        Period(date(2026, 1, 1), date(2026, 6, 30)),
        RATES,
        as_at=date(2026, 2, 1),
    )

    (report,) = indicators.payment_practices
    assert not report.complete
    assert report.as_at == date(2026, 2, 1)
    assert report.paid_within_30_days_percent == Decimal("100.0")


def test_the_report_and_the_indicator_round_one_figure_alike() -> None:
    """Thirds: the report once said 33.4 where the indicator said 33.3 for the same claims."""
    start = date(2026, 1, 5)
    timelines = [paid_claim(f"c{i}", start, days, "icb") for i, days in enumerate((10, 45, 70))]
    indicators = compute_indicators(
        timelines, Scope(payer_id="icb"), Period(date(2026, 1, 1), date(2026, 6, 30)), RATES
    )
    (report,) = indicators.payment_practices
    figure = indicators.figure("paid_within_30_days_percent").value
    assert report.paid_within_30_days_percent == figure == Decimal("33.3")
    assert report.paid_in_31_to_60_days_percent == report.paid_after_60_days_percent
    assert report.paid_after_60_days_percent == Decimal("33.3")
