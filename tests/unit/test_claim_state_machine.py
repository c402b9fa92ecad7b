"""The claim lifecycle under random sequences of commands, checked against a small model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import event as record_coverage
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.ledger.domain.claim import Claim, ClaimHistoryEvent, submit_claim
from services.ledger.domain.errors import (
    DomainError,
    InvalidTransition,
    NotAllowed,
    ValidationFailed,
)
from services.ledger.domain.payment import Payment, record_payment
from shared.events.types import ClaimEvent

from .builders import APPROVER, FINANCE, SUBMITTER, agreement, line

UNDECIDED = {"submitted", "queried"}
PAYABLE = {"approved", "part_paid"}
PEOPLE = st.sampled_from([APPROVER, SUBMITTER, "kim"])
QUARTERS = st.integers(min_value=1, max_value=96).map(lambda q: str(q / 4))


class ClaimLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.agreement = agreement()
        self.today = date(2026, 4, 2)
        self.claims = 0
        self.start_claim()

    def start_claim(self) -> None:
        self.claims += 1
        self.claim_id = f"c{self.claims}"
        self.events: list[ClaimHistoryEvent] = [
            submit_claim(
                self.claim_id,
                self.agreement,
                [line()],
                [],
                submitted_by=SUBMITTER,
                today=self.today,
            )
        ]
        self.payments: dict[str, Payment] = {}
        # The model: what the claim should say.
        self.status = "submitted"
        self.claimed = 5000
        self.approved = 0
        self.own = {SUBMITTER}

    @property
    def claim(self) -> Claim:
        return Claim.replay(self.events)

    def attempt(
        self, command: Callable[[], ClaimHistoryEvent], refusal: type[DomainError] | None
    ) -> ClaimHistoryEvent | None:
        """Run a command; when ``refusal`` is given it must raise it and change nothing."""
        before = self.claim
        if refusal is not None:
            with pytest.raises(refusal):
                command()
            assert self.claim == before
            return None
        event = command()
        self.events.append(event)
        return event

    def refusal_of_decision(self, allowed: set[str], by: str) -> type[DomainError] | None:
        if self.status not in allowed:
            return InvalidTransition
        if by in self.own:
            return NotAllowed
        return None

    # ---- rules ---------------------------------------------------------------------------

    @precondition(lambda self: self.status in {"rejected", "withdrawn", "paid"})
    @rule()
    def next_claim(self) -> None:
        """A settled claim has nothing more to explore: carry on with a new one."""
        self.start_claim()

    @rule(days=st.integers(min_value=0, max_value=20))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(hours=QUARTERS, by=st.sampled_from([SUBMITTER, "kim"]))
    def amend(self, hours: str, by: str) -> None:
        refusal = None if self.status in UNDECIDED else InvalidTransition
        worked_on = min(self.today, date(2027, 3, 31))
        event = self.attempt(
            lambda: self.claim.amend(
                [line(hours=hours, worked_on=worked_on)],
                agreement=self.agreement,
                by=by,
                today=self.today,
            ),
            refusal,
        )
        if event is not None:
            self.status = "submitted"
            self.claimed = event.amount_pence  # type: ignore[union-attr]
            self.own.add(by)

    @rule(by=PEOPLE)
    def query(self, by: str) -> None:
        refusal = self.refusal_of_decision({"submitted"}, by)
        if self.attempt(lambda: self.claim.query("Why?", by=by, today=self.today), refusal):
            self.status = "queried"

    @rule(answer=st.sampled_from(["Because", " "]))
    def answer(self, answer: str) -> None:
        refusal: type[DomainError] | None = None
        if self.status != "queried":
            refusal = InvalidTransition
        elif not answer.strip():
            refusal = ValidationFailed
        if self.attempt(lambda: self.claim.answer(answer, by=SUBMITTER, today=self.today), refusal):
            self.status = "submitted"

    @rule(
        by=PEOPLE,
        percent=st.one_of(st.none(), st.integers(min_value=-5, max_value=110)),
        with_reason=st.booleans(),
    )
    def approve(self, by: str, percent: int | None, with_reason: bool) -> None:
        amount = None if percent is None else self.claimed * percent // 100
        reason = "Partly out of scope" if with_reason else None
        refusal = self.refusal_of_decision({"submitted"}, by)
        if refusal is None and amount is not None:
            partial = amount < self.claimed
            if amount <= 0 or amount > self.claimed or (partial and not with_reason):
                refusal = ValidationFailed
        event = self.attempt(
            lambda: self.claim.approve(by=by, today=self.today, amount_pence=amount, reason=reason),
            refusal,
        )
        if event is not None:
            self.status = "approved"
            self.approved = self.claimed if amount is None else amount

    @rule(by=PEOPLE, reason=st.sampled_from(["Out of scope", ""]))
    def reject(self, by: str, reason: str) -> None:
        refusal = self.refusal_of_decision(UNDECIDED, by)
        if refusal is None and not reason:
            refusal = ValidationFailed
        if self.attempt(lambda: self.claim.reject(reason, by=by, today=self.today), refusal):
            self.status = "rejected"

    @rule()
    def withdraw(self) -> None:
        refusal = None if self.status in UNDECIDED else InvalidTransition
        if self.attempt(lambda: self.claim.withdraw(by=SUBMITTER, today=self.today), refusal):
            self.status = "withdrawn"

    @rule(percent=st.one_of(st.just(100), st.integers(min_value=-10, max_value=120)))
    def pay(self, percent: int) -> None:
        """Pay part, all (100%) or too much of what is outstanding."""
        outstanding = self.approved - self.paid()
        amount = max(outstanding, 1) * percent // 100
        refusal = None
        if self.status not in PAYABLE or amount <= 0 or amount > outstanding:
            refusal = ValidationFailed
        payment_id = f"{self.claim_id}-pay{len(self.payments) + 1}"
        event = self.attempt(
            lambda: record_payment(
                payment_id,
                payer_id="icb",
                payee_id="hope",
                paid_on=self.today,
                reference="BACS",
                allocations=[{"claim_id": self.claim_id, "amount_pence": amount}],
                claims={self.claim_id: self.claim},
                recorded_by=FINANCE,
                today=self.today,
            ),
            refusal,
        )
        if event is not None:
            self.payments[payment_id] = Payment.replay([event])  # type: ignore[list-item]
            self.status = "paid" if self.paid() == self.approved else "part_paid"

    @precondition(lambda self: bool(self.payments))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        payment_id = data.draw(st.sampled_from(sorted(self.payments)))
        payment = self.payments[payment_id]
        refusal = InvalidTransition if payment.reversed else None
        event = self.attempt(
            lambda: payment.reverse("Bounced", by=FINANCE, today=self.today), refusal
        )
        if event is not None:
            self.payments[payment_id] = payment.apply(event)  # type: ignore[arg-type]
            paid = self.paid()
            self.status = "approved" if paid == 0 else "part_paid"

    def paid(self) -> int:
        return sum(p.amount_pence for p in self.payments.values() if not p.reversed)

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def matches_the_model(self) -> None:
        claim = self.claim
        record_coverage(f"status {claim.status}")
        assert claim.status == self.status
        assert claim.amount_pence == self.claimed
        assert claim.approved_pence == self.approved
        assert claim.paid_pence == self.paid()
        assert claim.version == sum(1 for e in self.events if isinstance(e, ClaimEvent))

    @invariant()
    def money_adds_up(self) -> None:
        claim = self.claim
        assert claim.paid_pence >= 0
        assert claim.outstanding_pence >= 0
        if claim.status in {"approved", "part_paid", "paid"}:
            assert 0 < claim.approved_pence <= claim.amount_pence
            assert claim.approved_pence - claim.paid_pence == claim.outstanding_pence
        else:
            assert claim.approved_pence == 0 and claim.paid_pence == 0
            assert claim.outstanding_pence == 0
        paid_in_full = (
            claim.approved_pence > 0
            and claim.outstanding_pence == 0
            and any(not s.reversed_on for s in claim.payments)
        )
        assert (claim.status == "paid") == paid_in_full
        assert (claim.status == "part_paid") == (0 < claim.paid_pence < claim.approved_pence)
        assert (claim.status == "approved") == (claim.approved_pence > 0 and claim.paid_pence == 0)

    @invariant()
    def every_past_position_adds_up(self) -> None:
        claim = self.claim
        start = claim.submitted_on
        for offset in range(0, (self.today - start).days + 2, 3):
            position = claim.position_as_at(start + timedelta(days=offset))
            assert position is not None
            assert position.paid_pence >= 0
            assert position.outstanding_pence >= 0
            assert position.approved_pence - position.paid_pence == position.outstanding_pence
            assert 0 <= position.overdue_pence <= position.open_pence
            assert (position.days_overdue > 0) == (position.overdue_pence > 0)
        now = claim.position_as_at(self.today)
        assert now is not None and now.outstanding_pence == claim.outstanding_pence
        assert claim.position_as_at(start - timedelta(days=1)) is None


ClaimLifecycle.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestClaimLifecycle = ClaimLifecycle.TestCase
