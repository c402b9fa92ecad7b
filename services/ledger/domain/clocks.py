"""The two clocks a claim starts with at receipt: approval (working days, never paused) and
payment (calendar days). How queries extend payment due is `shared.claim_position`."""

from __future__ import annotations

from datetime import date, timedelta

from shared.calendar import add_working_days


def approval_due(submitted_on: date, sla_working_days: int, nation: str) -> date:
    """Receipt plus the SLA in the nation's working days; a query does not pause it."""
    return add_working_days(submitted_on, sla_working_days, nation)


def payment_due(submitted_on: date, payment_terms_days: int) -> date:
    """Receipt plus the payment terms, before any query extends it (the dispute clock)."""
    return submitted_on + timedelta(days=payment_terms_days)
