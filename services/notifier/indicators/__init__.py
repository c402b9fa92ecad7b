"""Equity indicators: figures with their benchmarks, chart series and the six-monthly payment
practices report, for any scope (partnership, payer, VCSE organisation) and period.

`compute_indicators` is pure; `load.indicators_for(connection, scope, period)` reads the
notifier's read model and calls it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, timedelta

from ..base_rate_notice import BaseRateNotice, base_rate_notice
from ..interest import BaseRateHistory, late_payment_interest
from ..model import ClaimTimeline
from .benchmarks import BENCHMARKS_LINE, Benchmark
from .figures import ClaimView, Figure, Indicators, Period, Scope, asked_on, compute_figures
from .practices import PaymentPracticesReport, half_years, payment_practices_report
from .series import aging_over_time, days_to_pay_histogram, on_time_by_month

__all__ = [
    "BENCHMARKS_LINE",
    "Benchmark",
    "Figure",
    "Indicators",
    "PaymentPracticesReport",
    "Period",
    "Scope",
    "compute_indicators",
]


def compute_indicators(
    timelines: Iterable[ClaimTimeline],
    scope: Scope,
    period: Period,
    rates: BaseRateHistory,
    *,
    as_at: date | None = None,
) -> Indicators:
    """All indicators for the scope over the period. Positions are as at the period's end, or
    ``as_at`` when earlier (pass today for a period that has not ended yet)."""
    day, views, figures = compute_figures(timelines, scope, period, rates, as_at=as_at)
    series = {
        "days_to_pay_histogram": days_to_pay_histogram(views, period),
        "aging_by_month_end": aging_over_time(
            [view.timeline for view in views], replace(period, end=day)
        ),
        "on_time_by_month": on_time_by_month(views, period, asked_on(period, as_at)),
    }
    payers = sorted({view.timeline.payer_id for view in views})
    reports = tuple(
        payment_practices_report(views, payer_id, half, day)
        for payer_id in payers
        for half in half_years(period)
        if half.start <= day
    )
    notice = interest_base_rates(views, period, day, rates)
    return Indicators(scope, period, day, figures, series, reports, notice)


def interest_base_rates(
    views: Iterable[ClaimView], period: Period, as_at: date, rates: BaseRateHistory
) -> BaseRateNotice:
    """Whether the base rates behind the interest accrued in the period (the claims whose
    interest grew between the day before it starts and ``as_at``) are confirmed."""
    before = period.start - timedelta(days=1)

    def used() -> Iterator[date | None]:
        for view in views:
            now = late_payment_interest(view.timeline, as_at, rates)
            if now.days and now.days > late_payment_interest(view.timeline, before, rates).days:
                yield now.reference_date

    return base_rate_notice(rates, used())
