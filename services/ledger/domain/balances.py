"""What is owed, as known on a date: one claim's position, aging, and an organisation's sum."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from shared.aging import AGING_BUCKETS, aging_bucket

__all__ = [
    "AGING_BUCKETS",
    "BalanceSummary",
    "ClaimPosition",
    "aging_bucket",
    "organisation_balance",
]


@dataclass(frozen=True)
class ClaimPosition:
    """One claim as known on ``as_at``: money, clocks and lateness.

    ``outstanding_pence`` is approved − paid; ``awaiting_approval_pence`` the claimed amount of
    a claim not yet decided. Both count as open, and both are overdue past payment due: a payer
    cannot escape lateness by not approving. A queried claim is never overdue (the dispute
    clock has stopped), nor is a rejected or withdrawn one.
    """

    claim_id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    as_at: date
    status: str
    claimed_pence: int
    approved_pence: int
    paid_pence: int
    outstanding_pence: int
    awaiting_approval_pence: int
    submitted_on: date
    approval_due: date
    payment_due: date
    approval_overdue: bool
    days_overdue: int
    overdue_pence: int
    bucket: str | None  # None when nothing is open

    @property
    def open_pence(self) -> int:
        return self.outstanding_pence + self.awaiting_approval_pence


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
