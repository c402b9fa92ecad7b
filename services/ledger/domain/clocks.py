"""The two clocks of a claim: approval (working days, never paused) and payment (calendar
days, paused while the claim is queried)."""

from __future__ import annotations

from datetime import date, timedelta

from shared.calendar import add_working_days


def approval_due(submitted_on: date, sla_working_days: int, nation: str) -> date:
    """Receipt plus the SLA in the nation's working days; a query does not pause it."""
    return add_working_days(submitted_on, sla_working_days, nation)


def payment_due(submitted_on: date, payment_terms_days: int, queried_days: int = 0) -> date:
    """Receipt plus the payment terms plus the calendar days spent waiting on the VCSE side."""
    return submitted_on + timedelta(days=payment_terms_days + queried_days)


def days_between(start: date, end: date) -> int:
    """Calendar days from start to end, never negative."""
    return max(0, (end - start).days)
