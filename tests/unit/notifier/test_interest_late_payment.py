"""Late payment interest: the Late Payment of Commercial Debts (Interest) Act 1998 on a claim's
dated facts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.notifier.interest import (
    BaseRate,
    BaseRateHistory,
    fixed_compensation_pence,
    late_payment_interest,
    reference_date,
    statutory_rate_percent,
)
from services.notifier.model import ClaimTimeline, Fact
from shared.money import round_half_up
from tests.unit.notifier.rules_builders import claim_timeline

# A history made up for the tests, with changes on the reference dates' edges.
RATES = BaseRateHistory(
    (
        BaseRate(date(2025, 8, 7), Decimal("4.00")),
        BaseRate(date(2026, 3, 19), Decimal("3.75")),
        BaseRate(date(2026, 6, 30), Decimal("3.50")),  # in force on 30 June
        BaseRate(date(2026, 7, 1), Decimal("3.25")),  # too late for the 30 June reference
        BaseRate(date(2026, 12, 31), Decimal("3.00")),
    )
)


def claim(amount: int, submitted_on: date, *facts: Fact, terms: int = 30) -> ClaimTimeline:
    return claim_timeline("c1", submitted_on, amount, *facts, hours="10", payment_terms_days=terms)


SUBMITTED = date(2026, 1, 2)  # payment due 1 February 2026, first overdue 2 February
APPROVED = Fact("approved", date(2026, 1, 10), 100_000)


def paid(on: date, amount: int, payment_id: str = "pay1") -> Fact:
    return Fact("paid", on, amount, payment_id=payment_id, text="BACS 4471")


def test_a_claim_31_days_overdue_owes_31_days_at_base_plus_8() -> None:
    interest = late_payment_interest(claim(100_000, SUBMITTED, APPROVED), date(2026, 3, 4), RATES)

    assert interest.overdue_from == date(2026, 2, 2)
    assert interest.reference_date == date(2025, 12, 31)
    assert interest.base_rate_percent == Decimal("4.00")
    assert interest.rate_percent == Decimal("12.00")
    assert interest.days == 31
    # £1,000 × 12% × 31 / 365 = £10.1917… → £10.19
    assert interest.interest_pence == 1019
    assert interest.compensation_pence == 7000  # a £1,000 debt
    assert interest.total_pence == 8019


def test_nothing_accrues_on_or_before_payment_due() -> None:
    timeline = claim(100_000, SUBMITTED, APPROVED)

    on_due = late_payment_interest(timeline, date(2026, 2, 1), RATES)
    first_day = late_payment_interest(timeline, date(2026, 2, 2), RATES)

    assert (on_due.days, on_due.interest_pence, on_due.compensation_pence) == (0, 0, 0)
    assert first_day.days == 1
    assert first_day.interest_pence == 33  # 100000 × 12 / 36500 = 32.88


def test_a_part_payment_mid_way_lowers_the_next_days_amount() -> None:
    # 16 days (2–17 Feb) on £1,000: the payment on the 17th pays for that day; then 15 days
    # (18 Feb – 4 Mar) on £600.
    timeline = claim(100_000, SUBMITTED, APPROVED, paid(date(2026, 2, 17), 40_000))

    interest = late_payment_interest(timeline, date(2026, 3, 4), RATES)

    assert interest.days == 31
    # (100000 × 16 + 60000 × 15) × 12 / 36500 = 821.92
    assert interest.interest_pence == 822
    assert interest.debt_pence == 100_000
    assert interest.compensation_pence == 7000


def test_a_reversal_puts_the_amount_back() -> None:
    timeline = claim(
        100_000,
        SUBMITTED,
        APPROVED,
        paid(date(2026, 2, 17), 40_000),
        Fact("reversed", date(2026, 2, 24), 40_000, payment_id="pay1", text="bounced"),
    )

    interest = late_payment_interest(timeline, date(2026, 3, 4), RATES)

    # 16 days on £1,000, 7 days (18–24 Feb) on £600, 8 days (25 Feb – 4 Mar) on £1,000
    expected = Decimal(100_000 * 16 + 60_000 * 7 + 100_000 * 8) * 12 / 36500
    assert interest.interest_pence == int(expected.quantize(Decimal(1)))
    assert interest.interest_pence == 927


def test_payment_in_full_stops_interest_but_keeps_what_accrued() -> None:
    timeline = claim(100_000, SUBMITTED, APPROVED, paid(date(2026, 2, 11), 100_000))

    at_payment = late_payment_interest(timeline, date(2026, 2, 11), RATES)
    months_later = late_payment_interest(timeline, date(2026, 9, 1), RATES)

    assert at_payment.days == months_later.days == 10  # 2–11 February
    assert months_later.interest_pence == at_payment.interest_pence == 329
    assert months_later.compensation_pence == 7000


def test_a_claim_waiting_for_approval_accrues_on_its_claimed_amount() -> None:
    interest = late_payment_interest(claim(50_000, SUBMITTED), date(2026, 2, 11), RATES)

    assert interest.days == 10
    assert interest.interest_pence == 164  # 50000 × 10 × 12 / 36500 = 164.38
    assert interest.compensation_pence == 4000


def test_a_query_pauses_the_clock_and_moves_payment_due() -> None:
    # Queried 10–20 January: payment due moves from 1 to 11 February.
    timeline = claim(
        100_000,
        SUBMITTED,
        Fact("queried", date(2026, 1, 10), text="Which ward?"),
        Fact("answered", date(2026, 1, 20), text="Ward 7"),
        Fact("approved", date(2026, 1, 21), 100_000),
    )

    assert late_payment_interest(timeline, date(2026, 2, 11), RATES).days == 0
    later = late_payment_interest(timeline, date(2026, 2, 21), RATES)
    assert later.overdue_from == date(2026, 2, 12)
    assert later.days == 10


def test_a_query_raised_after_payment_due_stops_no_interest() -> None:
    """The payer was already late (due 1 February): asking a question on the 10th stops
    neither the clock nor the interest."""
    timeline = claim(
        100_000,
        SUBMITTED,
        Fact("queried", date(2026, 2, 10), text="Which ward?"),
        Fact("answered", date(2026, 2, 20), text="Ward 7"),
    )

    while_queried = late_payment_interest(timeline, date(2026, 2, 15), RATES)
    after = late_payment_interest(timeline, date(2026, 2, 25), RATES)

    assert while_queried.days == 14  # 2–15 February
    assert after.days == 24  # 2–25 February, nothing paused
    assert after.overdue_from == date(2026, 2, 2)
    assert after.interest_pence == round_half_up(Decimal(100_000 * 24 * 12) / 36_500)


def test_rejected_and_withdrawn_claims_owe_no_interest() -> None:
    rejected = claim(100_000, SUBMITTED, Fact("rejected", date(2026, 2, 20), text="Out of scope"))
    withdrawn = claim(100_000, SUBMITTED, Fact("withdrawn", date(2026, 2, 20)))

    for timeline in (rejected, withdrawn):
        interest = late_payment_interest(timeline, date(2026, 3, 4), RATES)
        assert (interest.days, interest.interest_pence, interest.compensation_pence) == (0, 0, 0)


@pytest.mark.parametrize(
    ("overdue_from", "reference", "rate"),
    [
        (date(2026, 6, 30), date(2025, 12, 31), Decimal("12.00")),
        (date(2026, 7, 1), date(2026, 6, 30), Decimal("11.50")),
        (date(2026, 12, 31), date(2026, 6, 30), Decimal("11.50")),
        (date(2027, 1, 1), date(2026, 12, 31), Decimal("11.00")),
        (date(2026, 1, 1), date(2025, 12, 31), Decimal("12.00")),
    ],
)
def test_the_reference_rate_switches_on_30_june_and_31_december(
    overdue_from: date, reference: date, rate: Decimal
) -> None:
    assert reference_date(overdue_from) == reference
    assert statutory_rate_percent(overdue_from, RATES) == rate

    # The same through a claim: due the day before overdue_from.
    submitted = overdue_from - timedelta(days=31)
    timeline = claim(100_000, submitted, Fact("approved", submitted, 100_000))
    interest = late_payment_interest(timeline, overdue_from + timedelta(days=60), RATES)
    assert interest.overdue_from == overdue_from
    assert interest.rate_percent == rate


def test_the_rate_stays_fixed_when_the_base_rate_changes_while_overdue() -> None:
    # Overdue from 2 February (reference 31 Dec 2025: 4%); base rate falls in March and June.
    timeline = claim(100_000, SUBMITTED, APPROVED)

    interest = late_payment_interest(timeline, date(2026, 8, 1), RATES)

    assert interest.rate_percent == Decimal("12.00")
    assert interest.days == (date(2026, 8, 1) - date(2026, 2, 1)).days


@pytest.mark.parametrize(
    ("debt", "compensation"),
    [
        (1, 4000),
        (99_999, 4000),  # £999.99
        (100_000, 7000),  # £1,000
        (999_999, 7000),  # £9,999.99
        (1_000_000, 10_000),  # £10,000
        (25_000_000, 10_000),
        (0, 0),
    ],
)
def test_fixed_compensation_thresholds(debt: int, compensation: int) -> None:
    assert fixed_compensation_pence(debt) == compensation


@pytest.mark.parametrize(("debt", "compensation"), [(99_999, 4000), (100_000, 7000)])
def test_compensation_follows_the_debt_when_it_became_overdue(debt: int, compensation: int) -> None:
    timeline = claim(
        debt, SUBMITTED, Fact("approved", date(2026, 1, 10), debt), paid(date(2026, 2, 20), 50)
    )

    interest = late_payment_interest(timeline, date(2026, 3, 1), RATES)

    assert interest.debt_pence == debt
    assert interest.compensation_pence == compensation


def test_interest_rounds_half_up_to_the_penny() -> None:
    # 36500 pence-days at 12% → exactly 12 pence; 36500 × 12.5 / 36500 → 12.5 → 13.
    history = BaseRateHistory((BaseRate(date(2020, 1, 1), Decimal("4.5")),))
    timeline = claim(36_500, SUBMITTED, Fact("approved", SUBMITTED, 36_500))

    interest = late_payment_interest(timeline, date(2026, 2, 2), history)

    assert interest.rate_percent == Decimal("12.5")
    assert interest.interest_pence == 13  # 36500 × 12.5 / 36500 = 12.5


def test_a_date_before_the_history_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="no base rate is known on 2025-06-30"):
        statutory_rate_percent(date(2025, 7, 1), RATES)
