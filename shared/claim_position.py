"""A claim's position on any date, from its dated facts: the one place these rules live.

The ledger (its claim aggregate, balances and read views) and the notifier (rules, statements,
indicators, interest) both fold a claim's events into `Fact`s and ask `position_as_at`, so a
figure means the same thing wherever it is shown. Pure: standard library and event types only.

The rules, as the product contract states them:

- **Effective dates.** Every fact takes effect on its date (``Fact.on``, from the event's
  ``effective_on``). The position as at D knows the facts dated on or before D, applied in
  date order, facts of one day in the order they were recorded. A claim's own events never
  run backwards in time, but a payment may be recorded today and dated earlier (backdated).
- **Settlement.** Outstanding = approved − paid (net of reversals), once approved.
  ``approved`` while nothing is paid, ``part_paid`` while something is, ``paid`` once the
  outstanding amount reaches zero. **Paid in full** is the date of the payment that brought
  the outstanding amount to zero, in payment-date order: a backdated payment never moves it
  earlier than the payment that actually completed it.
- **Payment due** = receipt + payment terms + the calendar days the claim spent queried (the
  dispute clock). Only a query raised on or before the payment due as it stood that day
  counts: a payer already late cannot stop the clock, or the interest, by asking a question.
- **Overdue**: as at D, D > payment due, something is open (approved and unpaid, or claimed
  and awaiting approval: a payer cannot escape lateness by not approving) and the claim is
  not rejected or withdrawn. A counting query moves payment due forward day by day, so a
  claim waiting on the VCSE side is never overdue; a claim due today is not yet late.
- **Aging** of the open amount by days overdue (`shared.aging`).
- **On time** (`on_time`): paid in full on or before payment due; late once payment due has
  passed unpaid; not yet judged before that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.aging import aging_bucket
from shared.events.types import (
    ClaimAmended,
    ClaimApproved,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    ClaimWithdrawn,
    PaymentRecorded,
    PaymentReversed,
)

CLAIM_STATUSES = ("submitted", "queried", "approved", "part_paid", "paid", "rejected", "withdrawn")
UNDECIDED = frozenset({"submitted", "queried"})
APPROVED = frozenset({"approved", "part_paid", "paid"})
PAYABLE = frozenset({"approved", "part_paid"})
FINAL = frozenset({"rejected", "withdrawn"})
OPEN_STATUSES = UNDECIDED | PAYABLE

# Fact kinds.
SUBMITTED = "submitted"
AMENDED = "amended"
QUERIED = "queried"
ANSWERED = "answered"
APPROVED_FACT = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
PAID = "paid"
REVERSED = "reversed"


@dataclass(frozen=True)
class Fact:
    """One dated fact about a claim.

    ``amount_pence`` is the claimed amount for submitted and amended, the approved amount for
    approved, and this claim's allocation for paid and reversed. ``text`` is the question,
    answer or reason, or a payment's remittance reference. ``hours`` is the claim's total hours
    for submitted and amended.
    """

    kind: str
    on: date
    amount_pence: int = 0
    payment_id: str | None = None
    text: str | None = None
    hours: Decimal | None = None


@dataclass(frozen=True)
class ClaimTerms:
    """What the submission fixed: who, and the clocks before any query."""

    claim_id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    submitted_on: date
    approval_due: date
    base_payment_due: date  # receipt + payment terms

    @classmethod
    def of(cls, event: ClaimSubmitted) -> ClaimTerms:
        return cls(
            claim_id=event.claim_id,
            partnership_id=event.partnership_id,
            payer_id=event.payer_id,
            payee_id=event.payee_id,
            submitted_on=event.submitted_on,
            approval_due=event.approval_due,
            base_payment_due=event.payment_due,
        )


@dataclass(frozen=True)
class Position:
    """One claim as known at the end of ``as_at``: money, clocks and lateness."""

    claim_id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    as_at: date
    status: str
    claimed_pence: int
    hours: Decimal
    approved_pence: int
    paid_pence: int
    outstanding_pence: int  # approved − paid, once approved
    awaiting_approval_pence: int  # the claimed amount while undecided
    submitted_on: date
    approval_due: date
    approval_overdue: bool
    payment_due: date  # with the dispute clock, as at ``as_at``
    queried_days: int  # the days the dispute clock added, as at ``as_at``
    query_open_since: date | None  # the open query, if any
    clock_paused: bool  # an open query that stops the payment clock
    approved_on: date | None
    decided_on: date | None  # approved, rejected or withdrawn
    paid_in_full_on: date | None
    days_overdue: int
    overdue_pence: int
    bucket: str | None  # None when nothing is open

    @property
    def open_pence(self) -> int:
        return self.outstanding_pence + self.awaiting_approval_pence

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def figures_fixed(self) -> bool:
        """Whether its money figures (claimed, approved, paid, outstanding, awaiting approval,
        overdue and aging bucket) are the same as at every later date, until a new fact: true
        once nothing is open, since only an open amount falls overdue or ages."""
        return self.open_pence <= 0

    @property
    def amount_due_pence(self) -> int:
        """What the payer owes in all: the approved amount once approved, else the claimed
        amount (nothing for a rejected or withdrawn claim)."""
        if self.status in FINAL:
            return 0
        return self.approved_pence if self.status in APPROVED else self.claimed_pence


def settlement_status(approved_pence: int, paid_pence: int) -> str:
    """The status of an approved claim from what was approved and what is paid (net)."""
    if paid_pence <= 0:
        return "approved"
    if paid_pence >= approved_pence:
        return "paid"
    return "part_paid"


def outstanding_pence(status: str, approved_pence: int, paid_pence: int) -> int:
    """Approved − paid once approved; nothing before (or after a rejection or withdrawal)."""
    return approved_pence - paid_pence if status in APPROVED else 0


def fact_of(claim_id: str, event: object) -> Fact | None:
    """The fact ``event`` states about claim ``claim_id``; None if it says nothing of it."""
    if isinstance(event, PaymentRecorded | PaymentReversed):
        share = sum(a.amount_pence for a in event.allocations if a.claim_id == claim_id)
        if not any(a.claim_id == claim_id for a in event.allocations):
            return None
        if isinstance(event, PaymentRecorded):
            return Fact(PAID, event.effective_on, share, event.payment_id, event.reference)
        return Fact(REVERSED, event.effective_on, share, event.payment_id, event.reason)
    if getattr(event, "claim_id", None) != claim_id:
        return None
    if isinstance(event, ClaimSubmitted | ClaimAmended):
        hours = sum((line.hours for line in event.lines), Decimal(0))
        kind = SUBMITTED if isinstance(event, ClaimSubmitted) else AMENDED
        return Fact(kind, event.effective_on, event.amount_pence, hours=hours)
    if isinstance(event, ClaimQueried):
        return Fact(QUERIED, event.effective_on, text=event.question)
    if isinstance(event, ClaimQueryAnswered):
        return Fact(ANSWERED, event.effective_on, text=event.answer)
    if isinstance(event, ClaimApproved):
        return Fact(APPROVED_FACT, event.effective_on, event.amount_pence, text=event.reason)
    if isinstance(event, ClaimRejected):
        return Fact(REJECTED, event.effective_on, text=event.reason)
    if isinstance(event, ClaimWithdrawn):
        return Fact(WITHDRAWN, event.effective_on)
    return None


def facts_of(claim_id: str, events: Iterable[object]) -> tuple[Fact, ...]:
    """The facts a sequence of events (in the order recorded) states about one claim."""
    return tuple(fact for event in events if (fact := fact_of(claim_id, event)) is not None)


def in_effect_order(facts: Iterable[Fact], as_at: date | None = None) -> list[Fact]:
    """The facts dated on or before ``as_at`` (all when None), by date; a day's facts in the
    order recorded."""
    known = facts if as_at is None else (fact for fact in facts if fact.on <= as_at)
    return sorted(known, key=lambda fact: fact.on)


@dataclass
class _OpenQuery:
    since: date
    counts: bool  # raised on or before payment due: it stops the clock


def position_as_at(terms: ClaimTerms, facts: Sequence[Fact], as_at: date) -> Position | None:
    """The claim as known at the end of ``as_at``; None if it was not yet submitted."""
    known = in_effect_order(facts, as_at)
    if not known:
        return None
    status = "submitted"
    claimed = approved = paid = queried_days = 0
    hours = Decimal(0)
    query: _OpenQuery | None = None
    approved_on: date | None = None
    decided_on: date | None = None
    paid_in_full_on: date | None = None

    def close_query(on: date) -> int:
        """The days the open query adds to the dispute clock, closing it on ``on``."""
        nonlocal query
        added = (on - query.since).days if query is not None and query.counts else 0
        query = None
        return added

    for fact in known:
        kind = fact.kind
        if kind in (SUBMITTED, AMENDED):
            claimed, hours = fact.amount_pence, fact.hours or Decimal(0)
            queried_days += close_query(fact.on)
            status = "submitted"
        elif kind == QUERIED:
            due_then = terms.base_payment_due + timedelta(days=queried_days)
            query = _OpenQuery(fact.on, counts=fact.on <= due_then)
            status = "queried"
        elif kind == ANSWERED:
            queried_days += close_query(fact.on)
            status = "submitted"
        elif kind == APPROVED_FACT:
            queried_days += close_query(fact.on)
            status, approved, approved_on, decided_on = (
                "approved",
                fact.amount_pence,
                fact.on,
                fact.on,
            )
        elif kind in (REJECTED, WITHDRAWN):
            queried_days += close_query(fact.on)
            status, decided_on = kind, fact.on
        elif kind in (PAID, REVERSED):
            paid += fact.amount_pence if kind == PAID else -fact.amount_pence
            status = settlement_status(approved, paid)
            paid_in_full_on = fact.on if status == "paid" else None
    paused = query is not None and query.counts
    open_days = (as_at - query.since).days if query is not None and query.counts else 0
    payment_due = terms.base_payment_due + timedelta(days=queried_days + open_days)
    outstanding = outstanding_pence(status, approved, paid)
    awaiting = claimed if status in UNDECIDED else 0
    open_pence = outstanding + awaiting
    late = open_pence > 0 and status not in FINAL and as_at > payment_due
    days_overdue = (as_at - payment_due).days if late else 0
    return Position(
        claim_id=terms.claim_id,
        partnership_id=terms.partnership_id,
        payer_id=terms.payer_id,
        payee_id=terms.payee_id,
        as_at=as_at,
        status=status,
        claimed_pence=claimed,
        hours=hours,
        approved_pence=approved,
        paid_pence=paid,
        outstanding_pence=outstanding,
        awaiting_approval_pence=awaiting,
        submitted_on=terms.submitted_on,
        approval_due=terms.approval_due,
        approval_overdue=status in UNDECIDED and as_at > terms.approval_due,
        payment_due=payment_due,
        queried_days=queried_days + open_days,
        query_open_since=query.since if query is not None else None,
        clock_paused=paused,
        approved_on=approved_on,
        decided_on=decided_on,
        paid_in_full_on=paid_in_full_on,
        days_overdue=days_overdue,
        overdue_pence=open_pence if days_overdue > 0 else 0,
        bucket=aging_bucket(days_overdue) if open_pence > 0 else None,
    )


def paid_on_time(position: Position) -> bool:
    """Paid in full on or before payment due."""
    return position.paid_in_full_on is not None and position.paid_in_full_on <= position.payment_due


def on_time(position: Position, today: date) -> bool | None:
    """Whether the claim was paid on time, judged on ``today`` from its position (normally as
    at ``today``, or as at the end of a past period): True when paid in full on or before
    payment due; False once payment due has passed without that (a claim due today is not yet
    late); None while it is not yet judged, or when it owes nothing (rejected, withdrawn, or
    approved at £0)."""
    if position.amount_due_pence <= 0:
        return None
    if paid_on_time(position):
        return True
    if today > position.payment_due:
        return False
    return None


def fact_to_json(fact: Fact) -> dict[str, Any]:
    """A fact as JSON, for the read views that keep a claim's facts (ledger and notifier)."""
    data: dict[str, Any] = {"kind": fact.kind, "on": fact.on.isoformat()}
    if fact.amount_pence:
        data["amount_pence"] = fact.amount_pence
    for name in ("payment_id", "text"):
        value = getattr(fact, name)
        if value is not None:
            data[name] = value
    if fact.hours is not None:
        data["hours"] = str(fact.hours)
    return data


def fact_from_json(data: Mapping[str, Any]) -> Fact:
    """The fact `fact_to_json` wrote."""
    return Fact(
        kind=data["kind"],
        on=date.fromisoformat(data["on"]),
        amount_pence=int(data.get("amount_pence", 0)),
        payment_id=data.get("payment_id"),
        text=data.get("text"),
        hours=Decimal(data["hours"]) if data.get("hours") is not None else None,
    )
