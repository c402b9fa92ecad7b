"""A payer's recent track record, shown beside each open claim on both sides: the on-time
rate and the median days to pay over the last 90 days (the window of the `equity_breach`
rule), from the indicators' own definitions (`figures.on_time_in`, `figures.days_to_pay`,
`stats.median`), never a second copy of them.

- on time: of the payer's claims whose payment due fell in the 90 days ending today and can
  be judged today, the share paid in full on or before payment due (a claim due today is not
  late yet: `shared.claim_position.on_time`);
- days to pay: receipt to payment in full, for the claims paid in full in those 90 days;
- beside them, the claims still unpaid past due, so a payer cannot look fast by leaving its
  oldest debts unpaid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..model import ClaimTimeline
from ..rules.equity import TARGET_PERCENT, WINDOW_DAYS
from .figures import Scope, claim_views, days_to_pay, json_number, on_time_in, unpaid_past_due
from .stats import median, percent


@dataclass(frozen=True)
class TrackRecord:
    scope: Scope
    start: date
    end: date
    judged: int
    on_time: int
    on_time_percent: Decimal | None
    paid: int
    median_days_to_pay: Decimal | None
    unpaid_past_due: int

    def to_json(self) -> dict[str, Any]:
        return {
            "payer_id": self.scope.payer_id,
            "partnership_id": self.scope.partnership_id,
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "window_days": WINDOW_DAYS,
            "on_time_percent": json_number(self.on_time_percent),
            "on_time_target_percent": TARGET_PERCENT,
            "judged": self.judged,
            "on_time": self.on_time,
            "median_days_to_pay": json_number(self.median_days_to_pay),
            "paid": self.paid,
            "unpaid_past_due": self.unpaid_past_due,
        }


def track_record(timelines: Iterable[ClaimTimeline], scope: Scope, today: date) -> TrackRecord:
    """The scope's (a payer's, in a partnership or everywhere) last 90 days, as at today."""
    start = today - timedelta(days=WINDOW_DAYS - 1)
    views = claim_views(timelines, scope, today)
    rate = on_time_in(views, start, today, today)
    to_pay = days_to_pay(views, start, today)
    return TrackRecord(
        scope=scope,
        start=start,
        end=today,
        judged=len(rate.judged),
        on_time=len(rate.on_time),
        on_time_percent=percent(len(rate.on_time), len(rate.judged)),
        paid=len(to_pay),
        median_days_to_pay=median(to_pay),
        unpaid_past_due=unpaid_past_due(view.end for view in views).claims,
    )
