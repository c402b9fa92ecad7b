"""The notifier's view of a claim: a timeline of dated facts, folded from the ledger's events,
that answers "what was true on day D" for the rules, the statements and the indicators.

What a claim's facts mean on a day (settled, outstanding, payment due, overdue, aging, paid in
full) is `shared.claim_position`, the same rules the ledger uses; this module only keeps the
facts. Pure: the ledger decides; the notifier reads what was decided, so nothing here refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from shared.claim_position import (
    AMENDED,
    ANSWERED,
    APPROVED,
    APPROVED_FACT,
    FINAL,
    OPEN_STATUSES,
    PAID,
    QUERIED,
    REJECTED,
    REVERSED,
    SUBMITTED,
    UNDECIDED,
    WITHDRAWN,
    ClaimTerms,
    Fact,
    fact_of,
    in_effect_order,
    position_as_at,
)
from shared.claim_position import Position as ClaimState
from shared.events.types import ClaimSubmitted, PaymentRecorded, PaymentReversed

__all__ = [
    "AMENDED",
    "ANSWERED",
    "APPROVED",
    "APPROVED_FACT",
    "FINAL",
    "OPEN_STATUSES",
    "PAID",
    "QUERIED",
    "REJECTED",
    "REVERSED",
    "SUBMITTED",
    "UNDECIDED",
    "WITHDRAWN",
    "ClaimState",
    "ClaimTimeline",
    "Fact",
    "claims_of",
]


@dataclass(frozen=True)
class ClaimTimeline:
    """Everything the notifier knows of one claim: its terms and its facts, as recorded."""

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
        fact = fact_of(event.claim_id, event)
        assert fact is not None
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
            facts=(fact,),
        )

    @property
    def terms(self) -> ClaimTerms:
        return ClaimTerms(
            claim_id=self.claim_id,
            partnership_id=self.partnership_id,
            payer_id=self.payer_id,
            payee_id=self.payee_id,
            submitted_on=self.submitted_on,
            approval_due=self.approval_due,
            base_payment_due=self.base_payment_due,
        )

    def apply(self, event: object) -> ClaimTimeline:
        """This timeline with one more event; events of other claims change nothing."""
        fact = fact_of(self.claim_id, event)
        if fact is None or fact.kind == SUBMITTED:
            return self
        # The constructor, not dataclasses.replace (which looks every field up again): the
        # consumer calls this for most events it applies.
        return ClaimTimeline(
            claim_id=self.claim_id,
            partnership_id=self.partnership_id,
            agreement_id=self.agreement_id,
            payer_id=self.payer_id,
            payee_id=self.payee_id,
            submitted_by=self.submitted_by,
            submitted_on=self.submitted_on,
            approval_due=self.approval_due,
            base_payment_due=self.base_payment_due,
            facts=(*self.facts, fact),
        )

    def known_on(self, day: date) -> list[Fact]:
        """The facts dated on or before ``day``, in the order they take effect."""
        return in_effect_order(self.facts, day)

    def state_as_at(self, day: date) -> ClaimState | None:
        """The claim as known at the end of `day`; None if it was not yet submitted."""
        return position_as_at(self.terms, self.facts, day)


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
