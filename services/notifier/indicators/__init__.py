"""Equity indicators: figures with their benchmarks, chart series and the six-monthly payment
practices report, for any scope (partnership, payer, VCSE organisation) and period.

`compute_indicators` is pure; `load.indicators_for(connection, scope, period)` reads the
notifier's read model and calls it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from ..interest import BaseRateHistory
from ..model import ClaimTimeline
from .benchmarks import BENCHMARKS_LINE, Benchmark
from .figures import Figure, Indicators, Period, Scope, asked_on, compute_figures
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
    return Indicators(scope, period, day, figures, series, reports)
