"""What is owed, as known on a date: one claim's position, aging, and an organisation's sum."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypedDict

from shared.aging import AGING_BUCKETS, aging_bucket
from shared.claim_position import Position

__all__ = [
    "AGING_BUCKETS",
    "SUMMED",
    "BalanceSummary",
    "ClaimPosition",
    "aging_bucket",
    "contribution",
    "fixed_contribution",
    "organisation_balance",
]


# One claim as known on a date: the rules live in `shared.claim_position`.
ClaimPosition = Position

# The figures of a balance that are plain sums of its claims' figures (overdue and aging
# depend on the date as well).
SUMMED = (
    "claims",
    "claimed_pence",
    "approved_pence",
    "paid_pence",
    "outstanding_pence",
    "awaiting_approval_pence",
)


class BalanceSummary(TypedDict):
    claims: int
    claimed_pence: int
    approved_pence: int
    paid_pence: int
    outstanding_pence: int
    awaiting_approval_pence: int
    overdue_pence: int
    aging: dict[str, int]


def contribution(position: ClaimPosition) -> dict[str, int]:
    """What one claim adds to each of the `SUMMED` figures: nothing once withdrawn; rejected
    ones count as claimed but never approved."""
    if position.status == "withdrawn":
        return dict.fromkeys(SUMMED, 0)
    return {
        "claims": 1,
        "claimed_pence": position.claimed_pence,
        "approved_pence": position.approved_pence,
        "paid_pence": position.paid_pence,
        "outstanding_pence": position.outstanding_pence,
        "awaiting_approval_pence": position.awaiting_approval_pence,
    }


def fixed_contribution(position: ClaimPosition | None) -> dict[str, int] | None:
    """The claim's `contribution` when it is the same on every later date until a new fact
    (`Position.figures_fixed`: it then adds nothing overdue and nothing to aging), else None.

    The ledger keeps these summed per agreement (`claim_totals`) so a balance reads one row
    per agreement plus the claims still open, whatever the partnership's history."""
    if position is None or not position.figures_fixed:
        return None
    return contribution(position)


def organisation_balance(
    positions: Iterable[ClaimPosition],
    *,
    fixed: Mapping[str, int] | None = None,
    not_fixed_since: Iterable[ClaimPosition] = (),
) -> BalanceSummary:
    """Sum positions (say, one VCSE organisation's claims on one payer).

    ``fixed`` are maintained sums of `fixed_contribution`s (of claims not among
    ``positions``); ``not_fixed_since`` are positions whose fixed contribution ``fixed``
    includes but which are not fixed on the date asked for (they are taken out again, and
    their position on that date is among ``positions``).
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
    for name in SUMMED:
        summary[name] += (fixed or {}).get(name, 0)  # type: ignore[literal-required]
    for position in not_fixed_since:
        for name, value in contribution(position).items():
            summary[name] -= value  # type: ignore[literal-required]
    for position in positions:
        for name, value in contribution(position).items():
            summary[name] += value  # type: ignore[literal-required]
        if position.status == "withdrawn":
            continue
        summary["overdue_pence"] += position.overdue_pence
        if position.bucket is not None:
            summary["aging"][position.bucket] += position.open_pence
    return summary
