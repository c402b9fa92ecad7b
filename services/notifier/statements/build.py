"""Build statements from claim timelines: pure, so both sides get the same numbers anywhere.

Every figure comes from the claims' dated facts (`services/notifier/model.py`), the same facts
the ledger folded, so the outstanding total as at a date equals the ledger's balance.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from shared.aging import AGING_BUCKETS
from shared.money import format_pence

from ..base_rate_notice import base_rate_notice
from ..interest import BaseRateHistory, late_payment_interest
from ..model import APPROVED_FACT, PAID, REVERSED, UNDECIDED, ClaimTimeline
from .model import (
    APPROVED,
    AWAITING_APPROVAL,
    LINE_APPROVED,
    LINE_PAYMENT,
    LINE_REVERSAL,
    ActivityLine,
    ActivityStatement,
    BucketTotal,
    OutstandingItem,
    OutstandingStatement,
    Parties,
)

_LINE_ORDER = {LINE_APPROVED: 0, LINE_PAYMENT: 1, LINE_REVERSAL: 2}


class StatementDoesNotBalance(AssertionError):
    """opening + approved − paid + reversed ≠ closing: the facts contradict each other."""


def in_scope(parties: Parties, timelines: Iterable[ClaimTimeline]) -> list[ClaimTimeline]:
    """The claims of this partnership, payee and payer, oldest first."""
    return sorted(
        (
            t
            for t in timelines
            if t.partnership_id == parties.partnership.id
            and t.payee_id == parties.payee.id
            and t.payer_id == parties.payer.id
        ),
        key=lambda t: (t.submitted_on, t.claim_id),
    )


def _balances(timelines: list[ClaimTimeline], day: date) -> tuple[int, int]:
    """(approved − paid, awaiting approval) at the end of ``day``."""
    owed = awaiting = 0
    for timeline in timelines:
        state = timeline.state_as_at(day)
        if state is not None:
            owed += state.outstanding_pence
            awaiting += state.awaiting_approval_pence
    return owed, awaiting


def _activity_lines(timeline: ClaimTimeline, start: date, end: date) -> list[ActivityLine]:
    references = {f.payment_id: f.text or "" for f in timeline.facts if f.kind == PAID}
    claimed = 0
    lines = []
    for fact in timeline.facts:
        if fact.kind in ("submitted", "amended"):
            claimed = fact.amount_pence
        if not start <= fact.on <= end:
            continue
        if fact.kind == APPROVED_FACT:
            description = "Claim approved"
            if fact.amount_pence < claimed:
                description = f"Claim approved in part (claimed {format_pence(claimed)})"
            lines.append(
                ActivityLine(
                    fact.on, LINE_APPROVED, timeline.claim_id, "", description, fact.amount_pence
                )
            )
        elif fact.kind == PAID:
            lines.append(
                ActivityLine(
                    fact.on,
                    LINE_PAYMENT,
                    timeline.claim_id,
                    fact.text or "",
                    "Payment received",
                    fact.amount_pence,
                    fact.payment_id,
                )
            )
        elif fact.kind == REVERSED:
            reason = f"Payment reversed: {fact.text}" if fact.text else "Payment reversed"
            lines.append(
                ActivityLine(
                    fact.on,
                    LINE_REVERSAL,
                    timeline.claim_id,
                    references.get(fact.payment_id, ""),
                    reason,
                    fact.amount_pence,
                    fact.payment_id,
                )
            )
    return lines


def build_activity_statement(
    parties: Parties, timelines: Iterable[ClaimTimeline], start: date, end: date
) -> ActivityStatement:
    """Opening balance (owed at the end of the day before ``start``), each approval, payment
    allocation and reversal dated in [start, end], and the closing balance at the end of
    ``end``. Raises `StatementDoesNotBalance` if the movements do not explain the change."""
    if end < start:
        raise ValueError("the period ends before it starts")
    claims = in_scope(parties, timelines)
    opening, opening_awaiting = _balances(claims, start - timedelta(days=1))
    closing, closing_awaiting = _balances(claims, end)
    lines = sorted(
        (line for claim in claims for line in _activity_lines(claim, start, end)),
        key=lambda line: (line.on, _LINE_ORDER[line.kind], line.reference, line.claim_id),
    )
    approved = sum(line.amount_pence for line in lines if line.kind == LINE_APPROVED)
    paid = sum(line.amount_pence for line in lines if line.kind == LINE_PAYMENT)
    reversed_ = sum(line.amount_pence for line in lines if line.kind == LINE_REVERSAL)
    if opening + approved - paid + reversed_ != closing:
        raise StatementDoesNotBalance(
            f"opening {opening} + approved {approved} − paid {paid} + reversed {reversed_} "
            f"≠ closing {closing} for {parties.payee.id} / {parties.payer.id}"
        )
    return ActivityStatement(
        parties=parties,
        period_start=start,
        period_end=end,
        opening_pence=opening,
        lines=tuple(lines),
        approved_pence=approved,
        paid_pence=paid,
        reversed_pence=reversed_,
        closing_pence=closing,
        opening_awaiting_approval_pence=opening_awaiting,
        closing_awaiting_approval_pence=closing_awaiting,
    )


def build_outstanding_statement(
    parties: Parties,
    timelines: Iterable[ClaimTimeline],
    as_at: date,
    rates: BaseRateHistory,
) -> OutstandingStatement:
    """Every claim open at the end of ``as_at`` (approved and unpaid, or awaiting approval),
    oldest payment due first, aged, with interest accrued to ``as_at``; totals per bucket;
    and whether the interest's reference dates are within the base rate data's confirmed_to."""
    items = []
    for timeline in in_scope(parties, timelines):
        state = timeline.state_as_at(as_at)
        if state is None or state.open_pence <= 0:
            continue
        interest = late_payment_interest(timeline, as_at, rates)
        items.append(
            OutstandingItem(
                claim_id=timeline.claim_id,
                standing=AWAITING_APPROVAL if state.status in UNDECIDED else APPROVED,
                status=state.status,
                receipt=timeline.submitted_on,
                payment_due=state.payment_due,
                days_overdue=state.days_overdue,
                bucket=state.bucket or "not_due",
                claimed_pence=state.claimed_pence,
                approved_pence=state.approved_pence,
                paid_pence=state.paid_pence,
                open_pence=state.open_pence,
                interest_pence=interest.interest_pence,
                compensation_pence=interest.compensation_pence,
                interest_rate_percent=interest.rate_percent,
                interest_reference_date=interest.reference_date,
            )
        )
    items.sort(key=lambda item: (item.payment_due, item.receipt, item.claim_id))
    buckets = tuple(
        BucketTotal(
            bucket=bucket,
            items=sum(1 for item in items if item.bucket == bucket),
            open_pence=sum(item.open_pence for item in items if item.bucket == bucket),
            interest_pence=sum(item.interest_pence for item in items if item.bucket == bucket),
            compensation_pence=sum(
                item.compensation_pence for item in items if item.bucket == bucket
            ),
        )
        for bucket in AGING_BUCKETS
    )
    return OutstandingStatement(
        parties=parties,
        as_at=as_at,
        items=tuple(items),
        buckets=buckets,
        open_pence=sum(item.open_pence for item in items),
        approved_outstanding_pence=sum(
            item.open_pence for item in items if item.standing == APPROVED
        ),
        awaiting_approval_pence=sum(
            item.open_pence for item in items if item.standing == AWAITING_APPROVAL
        ),
        overdue_pence=sum(item.overdue_pence for item in items),
        interest_pence=sum(item.interest_pence for item in items),
        compensation_pence=sum(item.compensation_pence for item in items),
        base_rates=base_rate_notice(rates, (item.interest_reference_date for item in items)),
    )
