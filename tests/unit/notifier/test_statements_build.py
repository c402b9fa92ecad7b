"""Statement builders: activity (opening + approved − paid + reversed = closing) and
outstanding (open items, aged, with interest), from claim timelines."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.notifier.interest import BaseRate, BaseRateHistory, late_payment_interest
from services.notifier.model import ClaimTimeline, Fact
from services.notifier.statements import (
    Parties,
    Party,
    StatementDoesNotBalance,
    build_activity_statement,
    build_outstanding_statement,
)
from tests.unit.notifier.rules_builders import claim_timeline

RATES = BaseRateHistory((BaseRate(date(2024, 1, 1), Decimal("4.00")),))
PARTIES = Parties(
    Party("p1", "Northside"),
    Party("hope", "Hope Street Community Trust"),
    Party("icb", "North ICB"),
)


def claim(
    claim_id: str, submitted_on: date, amount: int, *facts: Fact, payer: str = "icb"
) -> ClaimTimeline:
    return claim_timeline(claim_id, submitted_on, amount, *facts, payer=payer)


def approved(on: date, amount: int) -> Fact:
    return Fact("approved", on, amount)


def paid(on: date, amount: int, payment_id: str, reference: str = "BACS 1") -> Fact:
    return Fact("paid", on, amount, payment_id=payment_id, text=reference)


def reversed_(on: date, amount: int, payment_id: str) -> Fact:
    return Fact("reversed", on, amount, payment_id=payment_id, text="Returned by the bank")


JAN, FEB, MAR = (date(2026, m, 1) for m in (1, 2, 3))
FEB_END = date(2026, 2, 28)


def history() -> list[ClaimTimeline]:
    return [
        # approved in January, part paid in February, the payment reversed in February
        claim(
            "c1",
            date(2026, 1, 5),
            10_000,
            approved(date(2026, 1, 10), 10_000),
            paid(date(2026, 2, 3), 4_000, "pay1", "BACS 11"),
            reversed_(date(2026, 2, 20), 4_000, "pay1"),
        ),
        # approved in part on the period's first day, paid in full in March
        claim(
            "c2",
            date(2026, 1, 25),
            8_000,
            approved(FEB, 6_000),
            paid(date(2026, 3, 2), 6_000, "pay2"),
        ),
        # approved the day before the period: in the opening balance
        claim("c3", date(2026, 1, 20), 3_000, approved(date(2026, 1, 31), 3_000)),
        # awaiting approval throughout
        claim("c4", date(2026, 2, 10), 2_500),
        # rejected: never owed
        claim("c5", date(2026, 1, 6), 9_999, Fact("rejected", date(2026, 2, 2), text="No")),
        # another payer's claim: not in this statement
        claim("c6", date(2026, 1, 5), 7_000, approved(date(2026, 2, 2), 7_000), payer="council"),
    ]


def test_the_activity_statement_balances() -> None:
    statement = build_activity_statement(PARTIES, history(), FEB, FEB_END)

    assert statement.opening_pence == 10_000 + 3_000
    assert statement.approved_pence == 6_000
    assert statement.paid_pence == 4_000
    assert statement.reversed_pence == 4_000
    assert statement.closing_pence == 10_000 + 6_000 + 3_000
    assert (
        statement.opening_pence
        + statement.approved_pence
        - statement.paid_pence
        + statement.reversed_pence
        == statement.closing_pence
    )
    assert statement.opening_awaiting_approval_pence == 8_000 + 9_999
    assert statement.closing_awaiting_approval_pence == 2_500


def test_the_activity_lines_are_dated_in_the_period_in_order() -> None:
    statement = build_activity_statement(PARTIES, history(), FEB, FEB_END)

    assert [(line.on, line.kind, line.claim_id, line.amount_pence) for line in statement.lines] == [
        (FEB, "approved", "c2", 6_000),
        (date(2026, 2, 3), "payment", "c1", 4_000),
        (date(2026, 2, 20), "reversal", "c1", 4_000),
    ]
    approval, payment, reversal = statement.lines
    assert approval.description == "Claim approved in part (claimed £80.00)"
    assert payment.reference == reversal.reference == "BACS 11"
    assert reversal.description == "Payment reversed: Returned by the bank"
    assert [line.signed_pence for line in statement.lines] == [6_000, -4_000, 4_000]
    assert statement.running_balances() == [19_000, 15_000, 19_000]
    assert statement.running_balances()[-1] == statement.closing_pence


def test_consecutive_periods_chain_closing_to_opening() -> None:
    timelines = history()
    january = build_activity_statement(PARTIES, timelines, JAN, date(2026, 1, 31))
    february = build_activity_statement(PARTIES, timelines, FEB, FEB_END)
    march = build_activity_statement(PARTIES, timelines, MAR, date(2026, 3, 31))

    assert january.opening_pence == 0
    assert january.closing_pence == february.opening_pence
    assert february.closing_pence == march.opening_pence
    assert march.paid_pence == 6_000


def test_facts_that_contradict_each_other_do_not_balance() -> None:
    # An amendment after approval and payment is not something the ledger allows; a statement
    # must refuse to paper over it.
    broken = claim(
        "c9",
        date(2026, 1, 5),
        10_000,
        approved(date(2026, 2, 2), 10_000),
        paid(date(2026, 2, 3), 5_000, "pay9"),
        Fact("amended", date(2026, 2, 4), 10_000, hours=Decimal("4")),
    )

    with pytest.raises(StatementDoesNotBalance):
        build_activity_statement(PARTIES, [broken], FEB, FEB_END)


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        build_activity_statement(PARTIES, [], FEB, JAN)


def test_the_outstanding_statement_lists_open_items_approved_and_awaiting_approval() -> None:
    statement = build_outstanding_statement(PARTIES, history(), FEB_END, RATES)

    # oldest payment due first: 4, 19 and 24 February, 12 March
    assert [(i.claim_id, i.standing, i.status, i.open_pence) for i in statement.items] == [
        ("c1", "approved", "approved", 10_000),
        ("c3", "approved", "approved", 3_000),
        ("c2", "approved", "approved", 6_000),
        ("c4", "awaiting approval", "submitted", 2_500),
    ]
    assert statement.open_pence == 21_500
    assert statement.approved_outstanding_pence == 19_000
    assert statement.awaiting_approval_pence == 2_500


def test_outstanding_items_carry_receipt_due_aging_and_interest() -> None:
    timelines = history()
    statement = build_outstanding_statement(PARTIES, timelines, FEB_END, RATES)
    item = statement.items[0]

    assert item.claim_id == "c1"
    assert item.receipt == date(2026, 1, 5)
    assert item.payment_due == date(2026, 2, 4)
    assert item.days_overdue == 24
    assert item.bucket == "1-30"
    expected = late_payment_interest(timelines[0], FEB_END, RATES)
    assert item.interest_pence == expected.interest_pence > 0
    assert item.compensation_pence == 4000
    assert item.interest_rate_percent == Decimal("12.00")
    assert statement.interest_pence == sum(i.interest_pence for i in statement.items)


def test_totals_per_aging_bucket() -> None:
    as_at = date(2026, 6, 30)
    timelines = [
        # due dates: as_at − days overdue
        claim(f"c{days}", as_at - timedelta(days=30 + days), 1_000 * (i + 1))
        for i, days in enumerate((0, -5, 1, 30, 31, 60, 61, 90, 91, 200))
    ]

    statement = build_outstanding_statement(PARTIES, timelines, as_at, RATES)

    totals = {b.bucket: (b.items, b.open_pence) for b in statement.buckets}
    assert list(totals) == ["not_due", "1-30", "31-60", "61-90", "90+"]
    assert totals == {
        "not_due": (2, 1_000 + 2_000),
        "1-30": (2, 3_000 + 4_000),
        "31-60": (2, 5_000 + 6_000),
        "61-90": (2, 7_000 + 8_000),
        "90+": (2, 9_000 + 10_000),
    }
    assert sum(b.open_pence for b in statement.buckets) == statement.open_pence
    assert statement.overdue_pence == statement.open_pence - 3_000
    assert sum(b.interest_pence for b in statement.buckets) == statement.interest_pence
    assert sum(b.compensation_pence for b in statement.buckets) == 8 * 4000


def test_a_query_pauses_the_payment_clock() -> None:
    as_at = date(2026, 3, 15)
    answered = claim(
        "q1",
        date(2026, 1, 5),
        5_000,
        Fact("queried", date(2026, 1, 10), text="Which ward?"),
        Fact("answered", date(2026, 1, 24), text="Ward 7"),
    )
    still_open = claim(
        "q2", date(2026, 1, 5), 5_000, Fact("queried", date(2026, 1, 10), text="Which ward?")
    )
    plain = claim("q3", date(2026, 1, 5), 5_000)

    items = {
        i.claim_id: i
        for i in build_outstanding_statement(
            PARTIES, [answered, still_open, plain], as_at, RATES
        ).items
    }

    assert items["q3"].payment_due == date(2026, 2, 4)
    assert items["q3"].days_overdue == 39
    assert items["q1"].payment_due == date(2026, 2, 18)  # 14 days queried
    assert items["q1"].days_overdue == 25
    assert items["q1"].interest_pence < items["q3"].interest_pence
    # An open query: waiting on the VCSE side, so not overdue at all.
    assert items["q2"].standing == "awaiting approval"
    assert items["q2"].status == "queried"
    assert items["q2"].days_overdue == 0
    assert items["q2"].bucket == "not_due"
    assert items["q2"].payment_due > as_at


def test_paid_rejected_withdrawn_and_future_claims_are_not_open_items() -> None:
    as_at = date(2026, 3, 1)
    timelines = [
        claim("paid", date(2026, 1, 5), 5_000, approved(JAN, 5_000), paid(FEB, 5_000, "p")),
        claim("rejected", date(2026, 1, 5), 5_000, Fact("rejected", FEB, text="No")),
        claim("withdrawn", date(2026, 1, 5), 5_000, Fact("withdrawn", FEB)),
        claim("later", date(2026, 3, 2), 5_000),
        claim("approved_zero", date(2026, 1, 5), 5_000, approved(FEB, 0)),
    ]

    statement = build_outstanding_statement(PARTIES, timelines, as_at, RATES)

    assert statement.items == ()
    assert statement.open_pence == 0
    assert all(bucket.items == 0 for bucket in statement.buckets)
