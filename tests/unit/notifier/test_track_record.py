"""A payer's track record over the last 90 days: the indicators' on-time and days-to-pay
definitions over the equity rule's window (and the same rate that rule computes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.notifier.indicators.figures import Scope
from services.notifier.indicators.track_record import track_record
from services.notifier.rules.equity import on_time_rate
from tests.unit.notifier.rules_builders import PARTNERSHIP, PAYER, submit, terms

TODAY = date(2026, 11, 18)


def test_on_time_rate_and_median_days_to_pay_over_the_last_90_days() -> None:
    # Due 30 days after receipt (no query): submitted on D, due D + 30.
    on_time = submit(date(2026, 9, 1)).approve(date(2026, 9, 3)).pay(date(2026, 9, 21), 23740)
    late = submit(date(2026, 9, 10)).approve(date(2026, 9, 12)).pay(date(2026, 10, 30), 23740)
    unpaid = submit(date(2026, 10, 1)).approve(date(2026, 10, 2))  # due 31 Oct: late, unpaid
    not_due = submit(date(2026, 11, 1))  # due 1 December: not judged yet
    old = submit(date(2026, 6, 1)).approve(date(2026, 6, 2)).pay(date(2026, 6, 20), 23740)
    other_partnership = submit(
        date(2026, 9, 1), agreement=terms(id="a2", partnership_id="p2")
    ).approve(date(2026, 9, 2))
    timelines = [s.timeline for s in (on_time, late, unpaid, not_due, old, other_partnership)]

    record = track_record(timelines, Scope(partnership_id=PARTNERSHIP, payer_id=PAYER), TODAY)

    assert (record.start, record.end) == (date(2026, 8, 21), TODAY)
    assert (record.judged, record.on_time) == (3, 1)
    assert record.on_time_percent == Decimal("33.3")
    assert record.paid == 2  # paid in full in the window: 20 and 50 days after receipt
    assert record.median_days_to_pay == Decimal(35)
    assert record.unpaid_past_due == 1
    mine = [t for t in timelines if t.partnership_id == PARTNERSHIP]
    assert on_time_rate(mine, TODAY).percent == record.on_time_percent
    assert record.to_json()["on_time_percent"] == 33.3


def test_nothing_to_judge_says_so() -> None:
    record = track_record([submit(date(2026, 11, 10)).timeline], Scope(payer_id=PAYER), TODAY)
    assert (record.judged, record.on_time_percent, record.median_days_to_pay) == (0, None, None)
    assert record.to_json()["median_days_to_pay"] is None
