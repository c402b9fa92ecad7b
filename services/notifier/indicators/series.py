"""Series for charts: how long payments take, how the open balance ages month by month, and
the on-time rate per month against the NHS Better Payment Practice Code's 95% line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from shared.aging import AGING_BUCKETS

from ..model import ClaimTimeline
from .benchmarks import NHS_BPPC
from .figures import ClaimView, Period, days_to_pay, json_number, on_time_in
from .stats import percent

# (label, fewest days, most days or None): edges at the benchmarks' 5, 10 and 30 days.
DAYS_TO_PAY_BINS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5),
    ("6-10", 6, 10),
    ("11-30", 11, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


def month_ends(period: Period) -> list[date]:
    """The last day of every month ending in the period, and the period's end if it is not one."""
    ends = []
    day = period.start
    while True:
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = following - timedelta(days=1)
        if last > period.end:
            break
        ends.append(last)
        day = following
    if not ends or ends[-1] != period.end:
        ends.append(period.end)
    return ends


def months(period: Period) -> list[Period]:
    """The calendar months overlapping the period, clipped to it."""
    found = []
    day = period.start
    while day <= period.end:
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        found.append(Period(day, min(following - timedelta(days=1), period.end)))
        day = following
    return found


def days_to_pay_histogram(views: Sequence[ClaimView], period: Period) -> list[dict[str, Any]]:
    days = days_to_pay(views, period.start, period.end)
    return [
        {
            "bin": label,
            "min_days": low,
            "max_days": high,
            "claims": sum(1 for d in days if d >= low and (high is None or d <= high)),
        }
        for label, low, high in DAYS_TO_PAY_BINS
    ]


def aging_over_time(timelines: Sequence[ClaimTimeline], period: Period) -> list[dict[str, Any]]:
    points = []
    for day in month_ends(period):
        buckets = dict.fromkeys(AGING_BUCKETS, 0)
        overdue = 0
        for timeline in timelines:
            state = timeline.state_as_at(day)
            if state is None or state.bucket is None:
                continue
            buckets[state.bucket] += state.open_pence
            overdue += state.overdue_pence
        points.append(
            {
                "as_at": day.isoformat(),
                "open_pence": sum(buckets.values()),
                "overdue_pence": overdue,
                "buckets": buckets,
            }
        )
    return points


def on_time_by_month(
    views: Sequence[ClaimView], period: Period, today: date
) -> list[dict[str, Any]]:
    """Per month of the period, the on-time rate of the claims due that month, judged on
    ``today`` (a claim not yet due, or due today and unpaid, is not judged)."""
    points = []
    for month in months(period):
        judged = on_time_in(views, month.start, month.end, today)
        rate = percent(len(judged.on_time), len(judged.judged))
        points.append(
            {
                "month": month.start.strftime("%Y-%m"),
                "due": len(judged.judged),
                "paid_on_time": len(judged.on_time),
                "on_time_percent": json_number(rate),
                "by_value_percent": json_number(
                    percent(judged.value_on_time_pence, judged.value_judged_pence)
                ),
                "target_percent": json_number(NHS_BPPC.target),
                "met": None if rate is None else rate >= NHS_BPPC.target,
            }
        )
    return points
