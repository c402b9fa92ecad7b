"""What is owed, as known on a date: one claim's position, aging, and an organisation's sum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from shared.aging import AGING_BUCKETS, aging_bucket
from shared.claim_position import Position

__all__ = [
    "AGING_BUCKETS",
    "BalanceSummary",
    "ClaimPosition",
    "aging_bucket",
    "organisation_balance",
]


# One claim as known on a date: the rules live in `shared.claim_position`.
ClaimPosition = Position


class BalanceSummary(TypedDict):
    claims: int
    claimed_pence: int
    approved_pence: int
    paid_pence: int
    outstanding_pence: int
    awaiting_approval_pence: int
    overdue_pence: int
    aging: dict[str, int]


def organisation_balance(positions: Iterable[ClaimPosition]) -> BalanceSummary:
    """Sum positions (say, one VCSE organisation's claims on one payer).

    Withdrawn claims count for nothing; rejected ones count as claimed but never approved.
    ``aging`` totals the open amounts (outstanding + awaiting approval) by bucket.
    """
    summary = BalanceSummary(
        claims=0,
        claimed_pence=0,
        approved_pence=0,
        paid_pence=0,
        outstanding_pence=0,
        awaiting_approval_pence=0,
        overdue_pence=0,
        aging=dict.fromkeys(AGING_BUCKETS, 0),
    )
    for position in positions:
        if position.status == "withdrawn":
            continue
        summary["claims"] += 1
        summary["claimed_pence"] += position.claimed_pence
        summary["approved_pence"] += position.approved_pence
        summary["paid_pence"] += position.paid_pence
        summary["outstanding_pence"] += position.outstanding_pence
        summary["awaiting_approval_pence"] += position.awaiting_approval_pence
        summary["overdue_pence"] += position.overdue_pence
        if position.bucket is not None:
            summary["aging"][position.bucket] += position.open_pence
    return summary
