"""The one home of a claim's position: settlement, paid in full, the dispute clock, lateness."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.ledger.domain.claim import Claim
from services.notifier.model import ClaimTimeline
from shared.claim_position import (
    ClaimTerms,
    Fact,
    fact_from_json,
    fact_to_json,
    on_time,
    position_as_at,
    settlement_status,
)
from tests.unit.notifier.rules_builders import submit

SUBMITTED = date(2026, 2, 1)
TERMS = ClaimTerms("c1", "p1", "icb", "hope", SUBMITTED, date(2026, 2, 6), date(2026, 3, 3))


def approved(amount: int = 10_000, on: date = date(2026, 2, 5)) -> list[Fact]:
    return [Fact("submitted", SUBMITTED, amount, hours=Decimal(4)), Fact("approved", on, amount)]


def pay(on: date, amount: int, payment: str) -> Fact:
    return Fact("paid", on, amount, payment_id=payment, text="BACS")


def test_settlement_status_is_one_rule() -> None:
    assert settlement_status(10_000, 0) == "approved"
    assert settlement_status(10_000, -1) == "approved"
    assert settlement_status(10_000, 1) == "part_paid"
    assert settlement_status(10_000, 10_000) == "paid"


def test_a_backdated_payment_does_not_move_paid_in_full() -> None:
    """Approved £100; £50 dated 20 March; then £50 recorded later but dated 10 March: paid in
    full on 20 March, when the outstanding amount reached zero in payment-date order."""
    facts = [
        *approved(10_000, date(2026, 3, 1)),
        pay(date(2026, 3, 20), 5_000, "p1"),
        pay(date(2026, 3, 10), 5_000, "p2"),  # recorded 25 March, dated 10 March
    ]
    position = position_as_at(TERMS, facts, date(2026, 3, 31))
    assert position is not None
    assert (position.status, position.paid_in_full_on) == ("paid", date(2026, 3, 20))
    assert on_time(position, date(2026, 3, 31)) is False  # due 3 March
    mid = position_as_at(TERMS, facts, date(2026, 3, 15))
    assert mid is not None
    assert (mid.status, mid.paid_pence, mid.paid_in_full_on) == ("part_paid", 5_000, None)


def test_the_ledger_and_the_notifier_agree_on_a_backdated_payment() -> None:
    """Both services fold the same events into the same position."""
    story = submit(date(2026, 2, 1), amount=10_000).approve(date(2026, 2, 5))
    story.pay(date(2026, 3, 20), 5_000).pay(date(2026, 3, 10), 5_000)
    timeline: ClaimTimeline = story.timeline
    notifier = timeline.state_as_at(date(2026, 3, 31))
    ledger = Claim.replay(story.events).position_as_at(date(2026, 3, 31))
    assert notifier == ledger
    assert notifier is not None and notifier.paid_in_full_on == date(2026, 3, 20)


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=5_000), min_size=1, max_size=6),
    offsets=st.lists(st.integers(min_value=0, max_value=60), min_size=6, max_size=6),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_paid_in_full_follows_payment_dates_not_the_order_recorded(
    amounts: list[int], offsets: list[int], seed: int
) -> None:
    approved_on = date(2026, 2, 5)
    payments = [
        pay(approved_on + timedelta(days=offsets[i]), amount, f"p{i}")
        for i, amount in enumerate(amounts)
    ]
    shuffled = payments[:]
    random.Random(seed).shuffle(shuffled)
    facts = approved(sum(amounts), approved_on)
    as_at = approved_on + timedelta(days=90)
    in_order = position_as_at(TERMS, [*facts, *payments], as_at)
    recorded = position_as_at(TERMS, [*facts, *shuffled], as_at)
    assert in_order is not None and recorded is not None
    by_date = sorted(payments, key=lambda fact: fact.on)
    assert recorded.paid_in_full_on == by_date[-1].on
    assert recorded == in_order


def test_a_query_before_payment_due_stops_the_clock_one_after_does_not() -> None:
    timely = [
        *approved()[:1],
        Fact("queried", date(2026, 3, 1), text="Which ward?"),
        Fact("answered", date(2026, 3, 11), text="Ward 7"),
    ]
    late = [
        *approved()[:1],
        Fact("queried", date(2026, 3, 5), text="Which ward?"),
        Fact("answered", date(2026, 3, 15), text="Ward 7"),
    ]
    as_at = date(2026, 3, 20)
    paused = position_as_at(TERMS, timely, as_at)
    running = position_as_at(TERMS, late, as_at)
    assert paused is not None and running is not None
    assert (paused.payment_due, paused.queried_days, paused.days_overdue) == (
        date(2026, 3, 13),
        10,
        7,
    )
    assert (running.payment_due, running.queried_days, running.days_overdue) == (
        date(2026, 3, 3),
        0,
        17,
    )
    while_open = position_as_at(TERMS, late[:2], date(2026, 3, 10))
    assert while_open is not None
    assert (while_open.status, while_open.clock_paused, while_open.days_overdue) == (
        "queried",
        False,
        7,
    )


def test_due_today_is_not_late_and_tomorrow_it_is() -> None:
    facts = approved()
    due = TERMS.base_payment_due
    today = position_as_at(TERMS, facts, due)
    tomorrow = position_as_at(TERMS, facts, due + timedelta(days=1))
    assert today is not None and tomorrow is not None
    assert (today.days_overdue, today.bucket, on_time(today, due)) == (0, "not_due", None)
    assert (tomorrow.days_overdue, tomorrow.bucket) == (1, "1-30")
    assert on_time(tomorrow, due + timedelta(days=1)) is False


def test_on_time_needs_something_owed() -> None:
    facts = [
        Fact("submitted", SUBMITTED, 5_000, hours=Decimal(1)),
        Fact("approved", date(2026, 2, 5), 0, text="Nothing eligible"),
    ]
    position = position_as_at(TERMS, facts, date(2026, 6, 1))
    assert position is not None
    assert (position.status, position.amount_due_pence) == ("approved", 0)
    assert on_time(position, date(2026, 6, 1)) is None
    paid = position_as_at(TERMS, [*approved(), pay(date(2026, 3, 3), 10_000, "p")], SUBMITTED)
    assert paid is not None and paid.status == "submitted"
    assert position_as_at(TERMS, approved(), SUBMITTED - timedelta(days=1)) is None


FACTS = st.builds(
    Fact,
    kind=st.sampled_from(["submitted", "amended", "queried", "answered", "approved", "paid"]),
    on=st.dates(),
    amount_pence=st.integers(min_value=-(10**12), max_value=10**12),
    payment_id=st.none() | st.text(max_size=8),
    text=st.none() | st.text(max_size=8),
    hours=st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=2),
)


@given(FACTS)
def test_a_fact_reads_back_as_it_was_written(fact: Fact) -> None:
    """The read views keep facts as JSON; the notifier's alert rules use the facts it holds in
    memory for the rows it just wrote, so reading a row back must give the same facts."""
    written = json.loads(json.dumps(fact_to_json(fact)))
    read = fact_from_json(written)
    assert read == fact
    assert repr(read) == repr(fact)
