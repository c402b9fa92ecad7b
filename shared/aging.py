"""Aging buckets: how far past payment due an open amount is. Both services bucket alike."""

from __future__ import annotations

AGING_BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")


def aging_bucket(days_overdue: int) -> str:
    """``not_due`` (0 or less), ``1-30``, ``31-60``, ``61-90``, ``90+`` (91 days or more)."""
    if days_overdue <= 0:
        return "not_due"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"
