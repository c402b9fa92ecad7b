"""Equity indicators for a scope and a period, computed from claim timelines (pure).

A scope is any combination of partnership, payer and VCSE organisation (payee); a period is
[start, end], both days included. Each figure says in its ``definition`` exactly what it counts;
in short:

- *flows* count facts dated in the period: claims submitted, approvals, payments (net of
  reversals), claims paid in full, interest accrued;
- *positions* are as at the end of the period (or ``as_at``, when the period runs past today):
  outstanding, overdue, overdue hours;
- *on time* looks at the claims whose payment due (the dispute clock) falls in the period and
  can be judged on the day asked: paid in full on or before payment due (on time), or payment
  due passed without it (late). A claim due today, or later, and not yet paid is not judged:
  it is not late yet (`shared.claim_position.on_time`).
- *days to pay* beside the claims still unpaid past due, so a payer cannot look fast by
  leaving its oldest debts unpaid.

Hours approved and paid are the claim's hours pro rata by amount (a claim approved at 80% of
its claimed amount counts 80% of its hours as approved); claims carry hours, not payments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from shared.claim_position import on_time

from ..interest import BaseRateHistory, late_payment_interest
from ..model import APPROVED_FACT, PAID, REVERSED, ClaimState, ClaimTimeline
from .benchmarks import (
    CENTRAL_GOVERNMENT_5_DAYS,
    CENTRAL_GOVERNMENT_5_DAYS_P90,
    COMPACT_10_DAYS,
    NHS_BPPC,
    STATUTORY_30_DAYS,
    Benchmark,
)
from .stats import mean, median, percent, percentile

if TYPE_CHECKING:
    from ..base_rate_notice import BaseRateNotice
    from .practices import PaymentPracticesReport

HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Scope:
    """Which claims: every filter given must match (None matches all)."""

    partnership_id: str | None = None
    payer_id: str | None = None
    payee_id: str | None = None

    def includes(self, timeline: ClaimTimeline) -> bool:
        return (
            (self.partnership_id is None or timeline.partnership_id == self.partnership_id)
            and (self.payer_id is None or timeline.payer_id == self.payer_id)
            and (self.payee_id is None or timeline.payee_id == self.payee_id)
        )

    def to_json(self) -> dict[str, str | None]:
        return {
            "partnership_id": self.partnership_id,
            "payer_id": self.payer_id,
            "payee_id": self.payee_id,
        }


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Figure:
    """One indicator with its unit, its definition and the benchmarks to judge it by."""

    key: str
    value: int | Decimal | None  # None: nothing in the period to measure
    unit: str  # hours | pence | percent | days | count
    definition: str
    benchmarks: tuple[Benchmark, ...] = ()
    count: int | None = None  # how many claims the figure is measured over

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": json_number(self.value),
            "unit": self.unit,
            "definition": self.definition,
            "count": self.count,
            "benchmarks": [benchmark.assess(self.value) for benchmark in self.benchmarks],
        }


def json_number(value: int | Decimal | None) -> int | float | None:
    """Integers stay integers; hours, days and percentages become JSON numbers."""
    if value is None or isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class ClaimView:
    """One claim with its state at the end of the period, computed once for every figure."""

    timeline: ClaimTimeline
    end: ClaimState | None

    def pro_rata_hours(self, pence: int) -> Decimal:
        if self.end is None or self.end.claimed_pence == 0:
            return Decimal(0)
        return self.end.hours * pence / self.end.claimed_pence

    @property
    def amount_due_pence(self) -> int:
        """What the payer owes in all: the approved amount once approved, else the claimed."""
        return 0 if self.end is None else self.end.amount_due_pence

    def on_time(self, today: date) -> bool | None:
        """Paid on time (True), late (False), or not judged yet on ``today`` (None)."""
        return None if self.end is None else on_time(self.end, today)


@dataclass(frozen=True)
class Indicators:
    scope: Scope
    period: Period
    as_at: date
    figures: tuple[Figure, ...]
    series: dict[str, Any] = field(default_factory=dict)
    payment_practices: tuple[PaymentPracticesReport, ...] = ()
    base_rates: BaseRateNotice | None = None  # are the interest's reference dates confirmed?

    def figure(self, key: str) -> Figure:
        return next(figure for figure in self.figures if figure.key == key)

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope.to_json(),
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "as_at": self.as_at.isoformat(),
            "figures": {figure.key: figure.to_json() for figure in self.figures},
            "series": self.series,
            "payment_practices": [report.to_json() for report in self.payment_practices],
            "base_rate_data": None if self.base_rates is None else self.base_rates.to_json(),
        }


def _hours(value: Decimal) -> Decimal:
    return value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def claim_views(timelines: Iterable[ClaimTimeline], scope: Scope, as_at: date) -> list[ClaimView]:
    return [
        ClaimView(timeline, timeline.state_as_at(as_at))
        for timeline in timelines
        if scope.includes(timeline)
    ]


def _volume_figures(views: list[ClaimView], period: Period) -> list[Figure]:
    submitted = [
        view
        for view in views
        if view.timeline.submitted_on in period
        and view.end is not None
        and view.end.status != "withdrawn"
    ]
    approved_pence = paid_pence = 0
    hours_approved = hours_paid = Decimal(0)
    approvals = 0
    for view in views:
        for fact in view.timeline.facts:
            if fact.on not in period:
                continue
            if fact.kind == APPROVED_FACT:
                approvals += 1
                approved_pence += fact.amount_pence
                hours_approved += view.pro_rata_hours(fact.amount_pence)
            elif fact.kind in (PAID, REVERSED):
                signed = fact.amount_pence if fact.kind == PAID else -fact.amount_pence
                paid_pence += signed
                hours_paid += view.pro_rata_hours(signed)
    return [
        Figure(
            "hours_claimed",
            _hours(sum((view.end.hours for view in submitted if view.end), Decimal(0))),
            "hours",
            "Hours of the claims submitted in the period (as amended; withdrawn claims left out).",
            count=len(submitted),
        ),
        Figure(
            "hours_approved",
            _hours(hours_approved),
            "hours",
            "Hours approved in the period: each approval's share of its claim's hours, pro rata "
            "by the approved amount over the claimed amount.",
            count=approvals,
        ),
        Figure(
            "hours_paid",
            _hours(hours_paid),
            "hours",
            "Hours paid in the period: each payment's (less each reversal's) share of its "
            "claim's hours, pro rata by amount over the claimed amount.",
        ),
        Figure(
            "claimed_pence",
            sum(view.end.claimed_pence for view in submitted if view.end),
            "pence",
            "Amount claimed by the claims submitted in the period (as amended; withdrawn left "
            "out).",
            count=len(submitted),
        ),
        Figure(
            "approved_pence",
            approved_pence,
            "pence",
            "Amount approved by the approvals dated in the period.",
            count=approvals,
        ),
        Figure(
            "paid_pence",
            paid_pence,
            "pence",
            "Payments dated in the period less reversals dated in the period (allocations to "
            "the scope's claims).",
        ),
    ]


# Lateness itself against the statutory 30 days: anything overdue misses it.
STATUTORY_30_DAYS_ZERO = Benchmark(
    "statutory_30_days",
    STATUTORY_30_DAYS.name,
    Decimal(0),
    "pence",
    "at_most",
)


def _position_figures(views: list[ClaimView]) -> list[Figure]:
    states = [view.end for view in views if view.end is not None]
    overdue = [view for view in views if view.end is not None and view.end.overdue_pence > 0]
    return [
        Figure(
            "outstanding_pence",
            sum(state.open_pence for state in states),
            "pence",
            "Open at the end of the period: approved and unpaid, plus claims awaiting approval "
            "(the ledger's balance).",
            count=sum(1 for state in states if state.open_pence > 0),
        ),
        Figure(
            "awaiting_approval_pence",
            sum(state.awaiting_approval_pence for state in states),
            "pence",
            "Of the outstanding amount, the claims not yet approved at the end of the period.",
            count=sum(1 for state in states if state.awaiting_approval_pence > 0),
        ),
        Figure(
            "overdue_pence",
            sum(state.overdue_pence for state in states),
            "pence",
            "Open at the end of the period and past payment due (queried claims excepted).",
            (STATUTORY_30_DAYS_ZERO,),
            count=len(overdue),
        ),
        Figure(
            "overdue_hours",
            _hours(
                sum(
                    (view.pro_rata_hours(view.end.overdue_pence) for view in overdue if view.end),
                    Decimal(0),
                )
            ),
            "hours",
            "VCSE hours of the claims overdue at the end of the period, pro rata by the overdue "
            "amount over the claimed amount.",
            count=len(overdue),
        ),
    ]


def due_in(views: Iterable[ClaimView], start: date, end: date) -> list[ClaimView]:
    """Claims whose payment due (as at the views' date) falls in [start, end] and that owe
    something (rejected and withdrawn claims, and nothing approved, owe nothing)."""
    return [
        view
        for view in views
        if view.end is not None
        and start <= view.end.payment_due <= end
        and view.amount_due_pence > 0
    ]


@dataclass(frozen=True)
class OnTime:
    """The claims due in a span that can be judged on ``today``, and those paid on time."""

    judged: tuple[ClaimView, ...]
    on_time: tuple[ClaimView, ...]

    @property
    def value_judged_pence(self) -> int:
        return sum(view.amount_due_pence for view in self.judged)

    @property
    def value_on_time_pence(self) -> int:
        return sum(view.amount_due_pence for view in self.on_time)


def on_time_in(views: Iterable[ClaimView], start: date, end: date, today: date) -> OnTime:
    """Of the claims due in [start, end], those judged on ``today`` and those paid on time."""
    judged = [view for view in due_in(views, start, end) if view.on_time(today) is not None]
    return OnTime(tuple(judged), tuple(view for view in judged if view.on_time(today)))


def _on_time_figures(views: list[ClaimView], period: Period, today: date) -> list[Figure]:
    rate = on_time_in(views, period.start, period.end, today)
    judged = (
        "Of the claims whose payment due falls in the period and has passed (a claim due today "
        "is not yet late; one already paid in full on time counts as on time)"
    )
    return [
        Figure(
            "paid_within_terms_by_number_percent",
            percent(len(rate.on_time), len(rate.judged)),
            "percent",
            f"{judged}, the share paid in full on or before payment due, by number.",
            (NHS_BPPC,),
            count=len(rate.judged),
        ),
        Figure(
            "paid_within_terms_by_value_percent",
            percent(rate.value_on_time_pence, rate.value_judged_pence),
            "percent",
            "The same by value: the amount due (approved, or claimed while awaiting approval) "
            "of the claims paid in full on time over that of all the claims judged.",
            (NHS_BPPC,),
            count=len(rate.judged),
        ),
    ]


def days_to_pay(views: Iterable[ClaimView], start: date, end: date) -> list[int]:
    """Days from receipt to payment in full, for the claims paid in full in [start, end]."""
    return [
        (view.end.paid_in_full_on - view.timeline.submitted_on).days
        for view in views
        if view.end is not None
        and view.end.paid_in_full_on is not None
        and start <= view.end.paid_in_full_on <= end
    ]


@dataclass(frozen=True)
class UnpaidPastDue:
    """Claims still owed past payment due on a day, and the age (days since receipt) of the
    oldest: what a days-to-pay figure cannot show."""

    claims: int
    oldest_age_days: int | None


def unpaid_past_due(positions: Iterable[ClaimState | None]) -> UnpaidPastDue:
    ages = [
        (position.as_at - position.submitted_on).days
        for position in positions
        if position is not None and position.days_overdue > 0
    ]
    return UnpaidPastDue(len(ages), max(ages) if ages else None)


def _speed_figures(views: list[ClaimView], period: Period) -> list[Figure]:
    to_approve = [
        (view.end.approved_on - view.timeline.submitted_on).days
        for view in views
        if view.end is not None
        and view.end.approved_on is not None
        and view.end.approved_on in period
    ]
    to_pay = days_to_pay(views, period.start, period.end)
    within_30 = sum(1 for days in to_pay if days <= 30)
    within_5 = sum(1 for days in to_pay if days <= 5)
    approve_note = (
        "Days from receipt (submission) to approval, for the claims approved in the period"
    )
    pay_note = (
        "Days from receipt (submission) to payment in full, for the claims paid in full in "
        "the period"
    )
    owed = unpaid_past_due(view.end for view in views)
    owed_note = (
        "Claims still owed past payment due at the end of the period (or today), whatever "
        "period they fell due in: days-to-pay figures count only claims paid, so read them "
        "beside these"
    )
    return [
        Figure(
            "median_days_to_approve",
            median(to_approve),
            "days",
            f"{approve_note}: the median.",
            count=len(to_approve),
        ),
        Figure(
            "p90_days_to_approve",
            percentile(to_approve, 90),
            "days",
            f"{approve_note}: the 90th percentile (nearest rank).",
            count=len(to_approve),
        ),
        Figure(
            "median_days_to_pay",
            median(to_pay),
            "days",
            f"{pay_note}: the median.",
            (STATUTORY_30_DAYS, COMPACT_10_DAYS),
            count=len(to_pay),
        ),
        Figure(
            "p90_days_to_pay",
            percentile(to_pay, 90),
            "days",
            f"{pay_note}: the 90th percentile (nearest rank).",
            (STATUTORY_30_DAYS, CENTRAL_GOVERNMENT_5_DAYS_P90),
            count=len(to_pay),
        ),
        Figure(
            "average_days_to_pay",
            mean(to_pay),
            "days",
            f"{pay_note}: the mean.",
            (STATUTORY_30_DAYS, COMPACT_10_DAYS),
            count=len(to_pay),
        ),
        Figure(
            "paid_within_30_days_percent",
            percent(within_30, len(to_pay)),
            "percent",
            f"{pay_note}: the share paid within 30 days of receipt.",
            (NHS_BPPC,),
            count=len(to_pay),
        ),
        Figure(
            "paid_within_5_days_percent",
            percent(within_5, len(to_pay)),
            "percent",
            f"{pay_note}: the share paid within 5 days of receipt.",
            (CENTRAL_GOVERNMENT_5_DAYS,),
            count=len(to_pay),
        ),
        Figure(
            "unpaid_past_due_claims",
            owed.claims,
            "count",
            f"{owed_note}: how many.",
            count=owed.claims,
        ),
        Figure(
            "oldest_unpaid_past_due_age_days",
            owed.oldest_age_days,
            "days",
            f"{owed_note}: the age of the oldest, in days since receipt (submission).",
            (STATUTORY_30_DAYS,),
            count=owed.claims,
        ),
    ]


def _interest_figures(
    views: list[ClaimView], period: Period, as_at: date, rates: BaseRateHistory
) -> list[Figure]:
    before = period.start - timedelta(days=1)
    interest = compensation = 0
    claims = 0
    for view in views:
        now = late_payment_interest(view.timeline, as_at, rates)
        if now.days == 0:
            continue
        earlier = late_payment_interest(view.timeline, before, rates)
        accrued = now.interest_pence - earlier.interest_pence
        if accrued or (now.overdue_from and now.overdue_from in period):
            claims += 1
        interest += accrued
        if now.overdue_from is not None and now.overdue_from in period:
            compensation += now.compensation_pence
    return [
        Figure(
            "interest_accrued_pence",
            interest,
            "pence",
            "Statutory late payment interest (Late Payment of Commercial Debts (Interest) Act "
            "1998) accrued on the scope's claims during the period: accrued to its end less "
            "accrued to the day before it starts.",
            count=claims,
        ),
        Figure(
            "compensation_pence",
            compensation,
            "pence",
            "Fixed compensation (£40, £70 or £100 per claim, by debt size) for the claims that "
            "first became overdue in the period.",
        ),
    ]


def asked_on(period: Period, as_at: date | None) -> date:
    """The day a question about ``period`` is asked: ``as_at``, or else the day after the
    period (a complete period)."""
    return period.end + timedelta(days=1) if as_at is None else as_at


def compute_figures(
    timelines: Iterable[ClaimTimeline],
    scope: Scope,
    period: Period,
    rates: BaseRateHistory,
    *,
    as_at: date | None = None,
) -> tuple[date, list[ClaimView], tuple[Figure, ...]]:
    """Every figure for the scope and period, asked on ``as_at`` (today; default: after the
    period, which is then complete). Positions are as at the earlier of the period's end and
    ``as_at``; on-time rates judge only what has fallen due by then."""
    today = asked_on(period, as_at)
    day = min(today, period.end)
    views = claim_views(timelines, scope, day)
    figures = (
        _volume_figures(views, period)
        + _position_figures(views)
        + _on_time_figures(views, period, today)
        + _speed_figures(views, period)
        + _interest_figures(views, period, day, rates)
    )
    return day, views, tuple(figures)
