"""The six-monthly payment practices report per payer, in the spirit of the Procurement Act
2023 s.69 (payment compliance notices): for the invoices (claims) paid in full in each half
year (1 January–30 June, 1 July–31 December), the average days to pay and the shares paid
within 30 days, in 31 to 60 days and after more than 60 days of receipt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.claim_position import paid_on_time

from .benchmarks import COMPACT_10_DAYS, NHS_BPPC, STATUTORY_30_DAYS
from .figures import ClaimView, Period, json_number, unpaid_past_due
from .stats import mean, percent


def half_year(day: date) -> Period:
    """The reporting half year holding ``day``."""
    if day.month <= 6:
        return Period(date(day.year, 1, 1), date(day.year, 6, 30))
    return Period(date(day.year, 7, 1), date(day.year, 12, 31))


def half_years(period: Period) -> list[Period]:
    """The reporting half years that overlap ``period``, oldest first."""
    found = [half_year(period.start)]
    while found[-1].end < period.end:
        found.append(half_year(found[-1].end + timedelta(days=1)))
    return found


@dataclass(frozen=True)
class PaymentPracticesReport:
    payer_id: str
    period: Period
    as_at: date  # the report is complete when as_at is the end of the half year
    invoices_paid: int
    value_paid_pence: int
    average_days_to_pay: Decimal | None
    paid_within_30_days_percent: Decimal | None
    paid_in_31_to_60_days_percent: Decimal | None
    paid_after_60_days_percent: Decimal | None
    paid_within_terms_percent: Decimal | None
    unpaid_past_due_invoices: int  # as at ``as_at``, whenever they fell due
    oldest_unpaid_past_due_age_days: int | None

    @property
    def complete(self) -> bool:
        return self.as_at >= self.period.end

    def to_json(self) -> dict[str, Any]:
        return {
            "payer_id": self.payer_id,
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "as_at": self.as_at.isoformat(),
            "complete": self.complete,
            "invoices_paid": self.invoices_paid,
            "value_paid_pence": self.value_paid_pence,
            "average_days_to_pay": {
                "value": json_number(self.average_days_to_pay),
                "benchmarks": [
                    STATUTORY_30_DAYS.assess(self.average_days_to_pay),
                    COMPACT_10_DAYS.assess(self.average_days_to_pay),
                ],
            },
            "paid_within_30_days_percent": {
                "value": json_number(self.paid_within_30_days_percent),
                "benchmarks": [NHS_BPPC.assess(self.paid_within_30_days_percent)],
            },
            "paid_in_31_to_60_days_percent": json_number(self.paid_in_31_to_60_days_percent),
            "paid_after_60_days_percent": json_number(self.paid_after_60_days_percent),
            "paid_within_terms_percent": json_number(self.paid_within_terms_percent),
            "unpaid_past_due_invoices": self.unpaid_past_due_invoices,
            "oldest_unpaid_past_due_age_days": self.oldest_unpaid_past_due_age_days,
            "basis": (
                "Claims of the payer paid in full in the half year; days from receipt "
                "(submission) to payment in full. Each share is rounded half up to one decimal "
                "place on its own, as every percentage Bridges shows, so the three may add up "
                "to 99.9 or 100.1. Beside them, the payer's claims still unpaid past payment due "
                "at the end of the half year (or today): how many, and the oldest one's age in "
                "days since receipt."
            ),
        }


def payment_practices_report(
    views: Iterable[ClaimView], payer_id: str, period: Period, as_at: date
) -> PaymentPracticesReport:
    """One payer's report for one half year, from claim views as at ``as_at``."""
    paid = [
        view
        for view in views
        if view.timeline.payer_id == payer_id
        and view.end is not None
        and view.end.paid_in_full_on is not None
        and view.end.paid_in_full_on in period
    ]
    days = [
        (view.end.paid_in_full_on - view.timeline.submitted_on).days
        for view in paid
        if view.end is not None and view.end.paid_in_full_on is not None
    ]
    within_30 = sum(1 for d in days if d <= 30)
    within_60 = sum(1 for d in days if 30 < d <= 60)
    over_60 = sum(1 for d in days if d > 60)
    report_as_at = min(as_at, period.end)
    owed = unpaid_past_due(
        view.timeline.state_as_at(report_as_at)
        for view in views
        if view.timeline.payer_id == payer_id
    )
    return PaymentPracticesReport(
        payer_id=payer_id,
        period=period,
        as_at=report_as_at,
        invoices_paid=len(paid),
        value_paid_pence=sum(view.end.paid_pence for view in paid if view.end is not None),
        average_days_to_pay=mean(days),
        paid_within_30_days_percent=percent(within_30, len(days)),
        paid_in_31_to_60_days_percent=percent(within_60, len(days)),
        paid_after_60_days_percent=percent(over_60, len(days)),
        paid_within_terms_percent=percent(
            sum(1 for v in paid if v.end is not None and paid_on_time(v.end)), len(paid)
        ),
        unpaid_past_due_invoices=owed.claims,
        oldest_unpaid_past_due_age_days=owed.oldest_age_days,
    )
