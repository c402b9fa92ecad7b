"""The notifier's view of a claim: a timeline of dated facts, folded from the ledger's events,
that answers "what was true on day D" for the rules, the statements and the indicators.

Pure: standard library and the shared event types only. The ledger decides; the notifier
only reads what was decided, so nothing here validates or refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

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

OPEN_STATUSES = frozenset({"submitted", "queried", "approved", "part_paid"})
UNDECIDED = frozenset({"submitted", "queried"})
APPROVED = frozenset({"approved", "part_paid", "paid"})
FINAL = frozenset({"rejected", "withdrawn"})

# Fact kinds, in the order a claim meets them.
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
    """One dated fact about a claim. `amount_pence` is the claimed amount for submitted and
    amended, the approved amount for approved, and the allocation for paid and reversed."""

    kind: str
    on: date
    amount_pence: int = 0
    payment_id: str | None = None
    text: str | None = None
    hours: str | None = None


@dataclass(frozen=True)
class ClaimState:
    """A claim as known on one day."""

    status: str
    claimed_pence: int
    hours: Decimal
    approved_pence: int
    paid_pence: int
    outstanding_pence: int
    awaiting_approval_pence: int
    queried_days: int
    query_open_since: date | None
    payment_due: date
    approval_due: date
    approved_on: date | None
    decided_on: date | None
    paid_in_full_on: date | None
    days_overdue: int
    overdue_pence: int
    bucket: str | None

    @property
    def open_pence(self) -> int:
        return self.outstanding_pence + self.awaiting_approval_pence

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class ClaimTimeline:
    """Everything the notifier knows of one claim."""

    claim_id: str
    partnership_id: str
    agreement_id: str
    payer_id: str
    payee_id: str
    submitted_by: str
    submitted_on: date
    approval_due: date
    base_payment_due: date
    facts: tuple[Fact, ...] = field(default=())

    @classmethod
    def submitted(cls, event: ClaimSubmitted) -> ClaimTimeline:
        return cls(
            claim_id=event.claim_id,
            partnership_id=event.partnership_id,
            agreement_id=event.agreement_id,
            payer_id=event.payer_id,
            payee_id=event.payee_id,
            submitted_by=event.submitted_by,
            submitted_on=event.submitted_on,
            approval_due=event.approval_due,
            base_payment_due=event.payment_due,
            facts=(
                Fact(
                    SUBMITTED,
                    event.submitted_on,
                    event.amount_pence,
                    hours=str(sum((line.hours for line in event.lines), Decimal(0))),
                ),
            ),
        )

    def apply(self, event: object) -> ClaimTimeline:
        """This timeline with one more event; events of other claims change nothing."""
        fact = _fact_for(self.claim_id, event)
        if fact is None:
            return self
        return replace(self, facts=(*self.facts, fact))

    def known_on(self, day: date) -> list[Fact]:
        return [fact for fact in self.facts if fact.on <= day]

    def state_as_at(self, day: date) -> ClaimState | None:
        """The claim as known at the end of `day`; None if it was not yet submitted."""
        facts = self.known_on(day)
        if not facts:
            return None
        status = "submitted"
        claimed = 0
        hours = Decimal(0)
        approved = 0
        paid = 0
        queried_days = 0
        query_open_since: date | None = None
        approved_on: date | None = None
        decided_on: date | None = None
        paid_in_full_on: date | None = None
        for fact in facts:
            if fact.kind in (SUBMITTED, AMENDED):
                claimed = fact.amount_pence
                hours = Decimal(fact.hours or "0")
                if query_open_since is not None:
                    queried_days += (fact.on - query_open_since).days
                    query_open_since = None
                status = "submitted"
            elif fact.kind == QUERIED:
                status = "queried"
                query_open_since = fact.on
            elif fact.kind == ANSWERED:
                if query_open_since is not None:
                    queried_days += (fact.on - query_open_since).days
                    query_open_since = None
                status = "submitted"
            elif fact.kind == APPROVED_FACT:
                status, approved, approved_on, decided_on = (
                    "approved",
                    fact.amount_pence,
                    fact.on,
                    fact.on,
                )
            elif fact.kind in (REJECTED, WITHDRAWN):
                if query_open_since is not None:
                    queried_days += (fact.on - query_open_since).days
                    query_open_since = None
                status, decided_on = fact.kind, fact.on
            elif fact.kind in (PAID, REVERSED):
                paid += fact.amount_pence if fact.kind == PAID else -fact.amount_pence
                if paid <= 0:
                    status, paid_in_full_on = "approved", None
                elif paid >= approved:
                    status, paid_in_full_on = "paid", fact.on
                else:
                    status, paid_in_full_on = "part_paid", None
        open_days = (day - query_open_since).days if query_open_since is not None else 0
        payment_due = self.base_payment_due + timedelta(days=queried_days + open_days)
        outstanding = approved - paid if status in APPROVED else 0
        awaiting = claimed if status in UNDECIDED else 0
        open_pence = outstanding + awaiting
        counts = open_pence > 0 and status != "queried" and status not in FINAL
        days_overdue = (day - payment_due).days if counts else 0
        days_overdue = max(days_overdue, 0)
        return ClaimState(
            status=status,
            claimed_pence=claimed,
            hours=hours,
            approved_pence=approved,
            paid_pence=paid,
            outstanding_pence=outstanding,
            awaiting_approval_pence=awaiting,
            queried_days=queried_days + open_days,
            query_open_since=query_open_since,
            payment_due=payment_due,
            approval_due=self.approval_due,
            approved_on=approved_on,
            decided_on=decided_on,
            paid_in_full_on=paid_in_full_on,
            days_overdue=days_overdue,
            overdue_pence=open_pence if days_overdue > 0 else 0,
            bucket=aging_bucket(days_overdue) if open_pence > 0 else None,
        )


def _fact_for(claim_id: str, event: object) -> Fact | None:
    if isinstance(event, ClaimAmended) and event.claim_id == claim_id:
        hours = sum((line.hours for line in event.lines), Decimal(0))
        return Fact(AMENDED, event.amended_on, event.amount_pence, hours=str(hours))
    if isinstance(event, ClaimQueried) and event.claim_id == claim_id:
        return Fact(QUERIED, event.queried_on, text=event.question)
    if isinstance(event, ClaimQueryAnswered) and event.claim_id == claim_id:
        return Fact(ANSWERED, event.answered_on, text=event.answer)
    if isinstance(event, ClaimApproved) and event.claim_id == claim_id:
        return Fact(APPROVED_FACT, event.approved_on, event.amount_pence, text=event.reason)
    if isinstance(event, ClaimRejected) and event.claim_id == claim_id:
        return Fact(REJECTED, event.rejected_on, text=event.reason)
    if isinstance(event, ClaimWithdrawn) and event.claim_id == claim_id:
        return Fact(WITHDRAWN, event.withdrawn_on)
    if isinstance(event, PaymentRecorded | PaymentReversed):
        share = sum(a.amount_pence for a in event.allocations if a.claim_id == claim_id)
        if share == 0:
            return None
        if isinstance(event, PaymentRecorded):
            return Fact(
                PAID, event.paid_on, share, payment_id=event.payment_id, text=event.reference
            )
        return Fact(
            REVERSED, event.reversed_on, share, payment_id=event.payment_id, text=event.reason
        )
    return None


def claims_of(events: Iterable[object]) -> dict[str, ClaimTimeline]:
    """Fold a sequence of events into timelines (a convenience for tests and rebuilds)."""
    timelines: dict[str, ClaimTimeline] = {}
    for event in events:
        if isinstance(event, ClaimSubmitted):
            timelines[event.claim_id] = ClaimTimeline.submitted(event)
            continue
        claim_ids: set[str] = set()
        if isinstance(event, PaymentRecorded | PaymentReversed):
            claim_ids = {a.claim_id for a in event.allocations}
        elif hasattr(event, "claim_id"):
            claim_ids = {str(event.claim_id)}
        for claim_id in claim_ids:
            if claim_id in timelines:
                timelines[claim_id] = timelines[claim_id].apply(event)
    return timelines
