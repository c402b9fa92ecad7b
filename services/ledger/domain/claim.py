"""A claim for funded time: submitted, queried, decided, paid; rebuilt from its events.

Design choices:
- A queried claim cannot be approved: the approver asked a question and waits for the
  answer (or rejects). The approval clock keeps running meanwhile.
- Whoever submitted or amended a claim may not approve, query or reject it.
- An amendment reprices every line at the agreement's current rates; receipt (and so both
  clocks) stays the date of first submission.
- Budgets are not enforced here: headroom is the caller's business.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from shared.claim_position import (
    APPROVED,
    CLAIM_STATUSES,
    FINAL,
    PAYABLE,
    UNDECIDED,
    ClaimTerms,
    Fact,
    facts_of,
    outstanding_pence,
    position_as_at,
    settlement_status,
)
from shared.events.types import (
    ACTIVITIES,
    EXPENSE_CATEGORIES,
    ClaimAmended,
    ClaimApproved,
    ClaimEvent,
    ClaimLine,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    ClaimWithdrawn,
    ExpenseLine,
    PaymentRecorded,
    PaymentReversed,
    ReceiptRef,
)
from shared.messages import N_
from shared.money import format_pence

from . import clocks
from .agreement import Agreement, price_line
from .balances import ClaimPosition
from .errors import InvalidTransition, NotAllowed
from .validation import REASON_MAX, Problems

__all__ = ["APPROVED", "CLAIM_STATUSES", "FINAL", "PAYABLE", "UNDECIDED", "Claim", "submit_claim"]

LINE_FIELDS = ("worked_on", "hours", "activity", "worker", "description")
EXPENSE_FIELDS = ("category", "amount_pence", "description", "receipts")
MAX_LINES = 200
MAX_EXPENSES = 100
MAX_RECEIPTS_PER_EXPENSE = 10
MAX_HOURS_PER_DAY = Decimal(24)

ClaimHistoryEvent = ClaimEvent | PaymentRecorded | PaymentReversed


@dataclass(frozen=True)
class Query:
    """One question and, once closed, how: answered, amended, or the claim decided."""

    question: str
    queried_by: str
    queried_on: date
    answer: str | None = None
    answered_by: str | None = None
    closed_on: date | None = None


@dataclass(frozen=True)
class PaymentShare:
    """This claim's part of one payment."""

    payment_id: str
    amount_pence: int
    paid_on: date
    reversed_on: date | None = None


@dataclass(frozen=True)
class Claim:
    id: str
    agreement_id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    status: str
    version: int  # claim-stream events only; payments do not bump it
    submitted_by: str
    submitted_on: date
    lines: tuple[ClaimLine, ...]
    expenses: tuple[ExpenseLine, ...]
    amount_pence: int  # claimed
    approval_due: date
    base_payment_due: date  # before queries extend it
    amended_by: frozenset[str] = frozenset()
    approved_pence: int = 0
    approved_by: str | None = None
    approved_on: date | None = None
    decision_reason: str | None = None  # of a partial approval or a rejection
    decided_on: date | None = None  # approved, rejected or withdrawn
    queries: tuple[Query, ...] = ()
    payments: tuple[PaymentShare, ...] = ()
    history: tuple[ClaimHistoryEvent, ...] = ()

    # ---- derived figures ---------------------------------------------------------------

    @property
    def paid_pence(self) -> int:
        """Paid to this claim, net of reversals."""
        return sum(s.amount_pence for s in self.payments if s.reversed_on is None)

    @property
    def outstanding_pence(self) -> int:
        """Approved and not yet paid (0 until approved)."""
        return outstanding_pence(self.status, self.approved_pence, self.paid_pence)

    @property
    def awaiting_approval_pence(self) -> int:
        return self.amount_pence if self.status in UNDECIDED else 0

    @property
    def open_question(self) -> str | None:
        if self.status == "queried" and self.queries:
            return self.queries[-1].question
        return None

    @property
    def hours(self) -> Decimal:
        return sum((line.hours for line in self.lines), Decimal(0))

    @property
    def last_event_on(self) -> date:
        return max(event.effective_on for event in self.history)

    @property
    def payable_from(self) -> date | None:
        """The earliest date a new payment to this claim may carry: not before its approval,
        nor before an earlier payment to it was reversed (so no date ever shows it overpaid)."""
        if self.approved_on is None:
            return None
        reversals = [s.reversed_on for s in self.payments if s.reversed_on is not None]
        return max([self.approved_on, *reversals])

    @property
    def terms(self) -> ClaimTerms:
        submitted = self.history[0]
        assert isinstance(submitted, ClaimSubmitted)
        return ClaimTerms.of(submitted)

    @property
    def receipts_in_history(self) -> tuple[ReceiptRef, ...]:
        """Every receipt any version of the claim carried, first seen first."""
        found: dict[str, ReceiptRef] = {}
        for event in self.history:
            if isinstance(event, ClaimSubmitted | ClaimAmended):
                for expense in event.expenses:
                    for ref in expense.receipts:
                        found.setdefault(ref.sha256, ref)
        return tuple(found.values())

    @property
    def facts(self) -> tuple[Fact, ...]:
        """What the claim's history says of it, dated (`shared.claim_position`)."""
        return facts_of(self.id, self.history)

    def queried_days(self, as_at: date) -> int:
        """Calendar days the dispute clock added up to ``as_at`` (an open query counts to
        ``as_at``; a query raised after payment due adds nothing)."""
        return self._position_on(as_at).queried_days

    def payment_due(self, as_at: date) -> date:
        """Receipt + payment terms + the days spent queried (the dispute clock)."""
        return self._position_on(as_at).payment_due

    def _position_on(self, as_at: date) -> ClaimPosition:
        position = position_as_at(self.terms, self.facts, max(as_at, self.submitted_on))
        assert position is not None
        return position

    # ---- rebuilding from events --------------------------------------------------------

    @classmethod
    def replay(cls, events: Sequence[ClaimHistoryEvent]) -> Claim:
        """Rebuild from the claim's stream, with the payment events that allocate to it
        folded in where they happened (events of other claims' payments are ignored)."""
        if not events or not isinstance(events[0], ClaimSubmitted):
            raise ValueError("a claim's history starts with ClaimSubmitted")
        first = events[0]
        claim = cls(
            id=first.claim_id,
            agreement_id=first.agreement_id,
            partnership_id=first.partnership_id,
            payer_id=first.payer_id,
            payee_id=first.payee_id,
            status="submitted",
            version=1,
            submitted_by=first.submitted_by,
            submitted_on=first.submitted_on,
            lines=first.lines,
            expenses=first.expenses,
            amount_pence=first.amount_pence,
            approval_due=first.approval_due,
            base_payment_due=first.payment_due,
            history=(first,),
        )
        for event in events[1:]:
            claim = claim.apply(event)
        return claim

    def apply(self, event: ClaimHistoryEvent) -> Claim:
        """The claim after ``event`` (self when the event is another claim's payment)."""
        if isinstance(event, PaymentRecorded | PaymentReversed):
            return self._apply_payment(event)
        if event.claim_id != self.id:
            raise ValueError(
                f"{type(event).__name__} of claim {event.claim_id} applied to {self.id}"
            )
        bumped = replace(self, version=self.version + 1, history=(*self.history, event))
        if isinstance(event, ClaimAmended):
            return replace(
                bumped,
                status="submitted",
                lines=event.lines,
                expenses=event.expenses,
                amount_pence=event.amount_pence,
                amended_by=self.amended_by | {event.amended_by},
                queries=_close_query(self.queries, event.amended_on)
                if self.status == "queried"
                else self.queries,
            )
        if isinstance(event, ClaimQueried):
            query = Query(event.question, event.queried_by, event.queried_on)
            return replace(bumped, status="queried", queries=(*self.queries, query))
        if isinstance(event, ClaimQueryAnswered):
            return replace(
                bumped,
                status="submitted",
                queries=_close_query(
                    self.queries, event.answered_on, event.answer, event.answered_by
                ),
            )
        if isinstance(event, ClaimApproved):
            return replace(
                bumped,
                status="approved",
                approved_pence=event.amount_pence,
                approved_by=event.approved_by,
                approved_on=event.approved_on,
                decision_reason=event.reason,
                decided_on=event.approved_on,
            )
        if isinstance(event, ClaimRejected):
            return replace(
                bumped,
                status="rejected",
                decision_reason=event.reason,
                decided_on=event.rejected_on,
                queries=_close_query(self.queries, event.rejected_on),
            )
        if isinstance(event, ClaimWithdrawn):
            return replace(
                bumped,
                status="withdrawn",
                decided_on=event.withdrawn_on,
                queries=_close_query(self.queries, event.withdrawn_on),
            )
        raise ValueError(f"claim {self.id} was already submitted")

    def _apply_payment(self, event: PaymentRecorded | PaymentReversed) -> Claim:
        if not any(a.claim_id == self.id for a in event.allocations):
            return self
        mine = sum(a.amount_pence for a in event.allocations if a.claim_id == self.id)
        if isinstance(event, PaymentRecorded):
            if self.status not in PAYABLE:
                raise ValueError(f"payment {event.payment_id} allocated to a {self.status} claim")
            share = PaymentShare(event.payment_id, mine, event.paid_on)
            payments = (*self.payments, share)
        else:
            payments = tuple(
                replace(s, reversed_on=event.reversed_on)
                if s.payment_id == event.payment_id and s.reversed_on is None
                else s
                for s in self.payments
            )
        paid = sum(s.amount_pence for s in payments if s.reversed_on is None)
        status = settlement_status(self.approved_pence, paid)
        return replace(self, payments=payments, status=status, history=(*self.history, event))

    # ---- commands ----------------------------------------------------------------------

    def amend(
        self,
        lines: object,
        expenses: object = None,
        *,
        agreement: Agreement,
        by: str,
        today: date,
        receipts: Mapping[str, ReceiptRef] | None = None,
    ) -> ClaimAmended:
        """Replace the lines and expenses while submitted or queried (answering the query).
        ``receipts``: the uploads the expenses may reference, by id (their SHA-256)."""
        self._require("amended", UNDECIDED, today)
        if agreement.id != self.agreement_id:
            raise ValueError("amend with the claim's own agreement")
        new_lines, new_expenses = _read_claim(agreement, lines, expenses, today, receipts)
        return ClaimAmended(
            claim_id=self.id,
            amended_by=by,
            amended_on=today,
            lines=new_lines,
            expenses=new_expenses,
            amount_pence=_total(new_lines, new_expenses),
            answers_query=self.status == "queried",
        )

    def query(self, question: object, *, by: str, today: date) -> ClaimQueried:
        """Ask the submitter a question; pauses the payment clock, not the approval clock."""
        if self.status == "queried":
            raise InvalidTransition(N_("this claim already has an open query"))
        self._require("queried", {"submitted"}, today)
        self._not_own(by, "query")
        problems = Problems()
        text = problems.text(question, "question", max_length=REASON_MAX, multiline=True)
        problems.raise_if_any()
        assert text is not None
        return ClaimQueried(claim_id=self.id, queried_by=by, queried_on=today, question=text)

    def answer(self, answer: object, *, by: str, today: date) -> ClaimQueryAnswered:
        """Answer the open query; the claim is submitted again and the payment clock restarts."""
        if self.status == "submitted":
            raise InvalidTransition(N_("this claim has no open query to answer"))
        self._require("answered", {"queried"}, today)
        problems = Problems()
        text = problems.text(answer, "answer", max_length=REASON_MAX, multiline=True)
        problems.raise_if_any()
        assert text is not None
        return ClaimQueryAnswered(claim_id=self.id, answered_by=by, answered_on=today, answer=text)

    def approve(
        self, *, by: str, today: date, amount_pence: object = None, reason: object = None
    ) -> ClaimApproved:
        """Approve in full (amount None) or in part (0 < amount < claimed, with a reason)."""
        if self.status == "queried":
            raise InvalidTransition(
                N_("a queried claim cannot be approved until its query is answered")
            )
        self._require("approved", {"submitted"}, today)
        self._not_own(by, "approve")
        problems = Problems()
        amount = (
            self.amount_pence
            if amount_pence is None
            else problems.pence(amount_pence, "amount_pence")
        )
        if amount is not None and amount > self.amount_pence:
            problems.add(
                "amount_pence",
                N_("must not exceed the claimed %(n)s", n=format_pence(self.amount_pence)),
            )
        text = problems.text(
            reason, "reason", max_length=REASON_MAX, required=False, multiline=True
        )
        partial = amount is not None and amount < self.amount_pence
        if partial and text is None and "reason" not in problems.errors:
            problems.add("reason", N_("a reason is required for a partial approval"))
        problems.raise_if_any()
        assert amount is not None
        return ClaimApproved(
            claim_id=self.id,
            approved_by=by,
            approved_on=today,
            amount_pence=amount,
            claimed_pence=self.amount_pence,
            reason=text,
        )

    def reject(self, reason: object, *, by: str, today: date) -> ClaimRejected:
        """Refuse the claim for good, with a reason the submitter will see."""
        self._require("rejected", UNDECIDED, today)
        self._not_own(by, "reject")
        problems = Problems()
        text = problems.text(reason, "reason", max_length=REASON_MAX, multiline=True)
        problems.raise_if_any()
        assert text is not None
        return ClaimRejected(claim_id=self.id, rejected_by=by, rejected_on=today, reason=text)

    def withdraw(self, *, by: str, today: date) -> ClaimWithdrawn:
        """Take the claim back; only before a decision."""
        self._require("withdrawn", UNDECIDED, today)
        return ClaimWithdrawn(claim_id=self.id, withdrawn_by=by, withdrawn_on=today)

    def _require(self, done: str, allowed: frozenset[str] | set[str], today: date) -> None:
        # A claim's events never run backwards in time (today comes from the server clock).
        if today < self.last_event_on:
            raise ValueError(f"today ({today}) is before the claim's last event")
        if self.status not in allowed:
            article = "an" if self.status[0] in "aeiou" else "a"
            raise InvalidTransition(
                N_(
                    "%(article)s %(status)s claim cannot be %(done)s",
                    article=article,
                    status=self.status,
                    done=done,
                )
            )

    def _not_own(self, by: str, action: str) -> None:
        if by == self.submitted_by or by in self.amended_by:
            raise NotAllowed(
                N_("you cannot %(action)s a claim you submitted or amended", action=action)
            )

    # ---- positions ---------------------------------------------------------------------

    def position_as_at(self, as_at: date) -> ClaimPosition | None:
        """The claim as known on ``as_at`` (facts dated later are ignored); None if it was
        not yet submitted."""
        return position_as_at(self.terms, self.facts, as_at)


def submit_claim(
    claim_id: str,
    agreement: Agreement,
    lines: object,
    expenses: object = None,
    *,
    submitted_by: str,
    today: date,
    receipts: Mapping[str, ReceiptRef] | None = None,
) -> ClaimSubmitted:
    """Submit a claim under an agreement: every line checked and priced, clocks started.

    ``lines`` and ``expenses`` are lists of JSON-like objects (already-parsed dates, Decimal
    hours and ints are fine); all field errors are reported together. An expense's
    ``receipts`` are ids of uploads found in ``receipts`` (the organisation's, by SHA-256).
    """
    new_lines, new_expenses = _read_claim(agreement, lines, expenses, today, receipts)
    return ClaimSubmitted(
        claim_id=claim_id,
        agreement_id=agreement.id,
        partnership_id=agreement.partnership_id,
        payer_id=agreement.payer_id,
        payee_id=agreement.payee_id,
        submitted_by=submitted_by,
        submitted_on=today,
        lines=new_lines,
        expenses=new_expenses,
        amount_pence=_total(new_lines, new_expenses),
        approval_due=clocks.approval_due(
            today, agreement.approval_sla_working_days, agreement.nation
        ),
        payment_due=clocks.payment_due(today, agreement.payment_terms_days),
    )


def _close_query(
    queries: tuple[Query, ...],
    on: date,
    answer: str | None = None,
    answered_by: str | None = None,
) -> tuple[Query, ...]:
    if not queries or queries[-1].closed_on is not None:
        return queries
    closed = replace(queries[-1], closed_on=on, answer=answer, answered_by=answered_by)
    return (*queries[:-1], closed)


def _total(lines: Sequence[ClaimLine], expenses: Sequence[ExpenseLine]) -> int:
    return sum(line.amount_pence for line in lines) + sum(e.amount_pence for e in expenses)


def _read_claim(
    agreement: Agreement,
    lines: object,
    expenses: object,
    today: date,
    receipts: Mapping[str, ReceiptRef] | None = None,
) -> tuple[tuple[ClaimLine, ...], tuple[ExpenseLine, ...]]:
    problems = Problems()
    checked_lines = _read_lines(problems, agreement, lines, today)
    checked_expenses = _read_expenses(problems, expenses, receipts or {})
    problems.raise_if_any()
    return checked_lines, checked_expenses


def _read_lines(
    problems: Problems, agreement: Agreement, lines: object, today: date
) -> tuple[ClaimLine, ...]:
    result: list[ClaimLine] = []
    hours_by_worker_day: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    items = problems.items(lines, "lines", minimum=1, maximum=MAX_LINES, noun="line")
    for index, item in enumerate(items):
        path = f"lines.{index}"
        raw = problems.mapping(item, path, LINE_FIELDS)
        if raw is None:
            continue
        worked_on = problems.day(raw.get("worked_on"), f"{path}.worked_on")
        if worked_on is not None:
            if worked_on > today:
                problems.add(f"{path}.worked_on", N_("must not be in the future"))
            elif not agreement.covers(worked_on):
                problems.add(
                    f"{path}.worked_on",
                    N_(
                        "must be within the agreement (%(start)s to %(end)s)",
                        start=agreement.starts_on.isoformat(),
                        end=agreement.ends_on.isoformat(),
                    ),
                )
        hours = problems.hours(raw.get("hours"), f"{path}.hours")
        activity = problems.choice(raw.get("activity"), f"{path}.activity", ACTIVITIES)
        worker = problems.text(raw.get("worker"), f"{path}.worker")
        description = problems.text(raw.get("description"), f"{path}.description", multiline=True)
        if worked_on is None or hours is None or activity is None:
            continue
        if worker is None or description is None:
            continue
        hours_by_worker_day[(worker.casefold(), worked_on)] += hours
        if hours_by_worker_day[(worker.casefold(), worked_on)] > MAX_HOURS_PER_DAY:
            problems.add(
                f"{path}.hours",
                N_(
                    "%(who)s's hours on %(day)s add up to more than 24",
                    who=worker,
                    day=worked_on.isoformat(),
                ),
            )
        amount, basis = price_line(agreement, activity, hours)
        result.append(ClaimLine(worked_on, hours, activity, worker, description, amount, basis))
    return tuple(result)


def _read_expenses(
    problems: Problems, expenses: object, uploads: Mapping[str, ReceiptRef]
) -> tuple[ExpenseLine, ...]:
    result: list[ExpenseLine] = []
    items = problems.items(expenses, "expenses", minimum=0, maximum=MAX_EXPENSES, noun="expense")
    for index, item in enumerate(items):
        path = f"expenses.{index}"
        raw = problems.mapping(item, path, EXPENSE_FIELDS)
        if raw is None:
            continue
        category = problems.choice(raw.get("category"), f"{path}.category", EXPENSE_CATEGORIES)
        amount = problems.pence(raw.get("amount_pence"), f"{path}.amount_pence")
        description = problems.text(raw.get("description"), f"{path}.description", multiline=True)
        receipts = _read_receipts(problems, raw.get("receipts"), f"{path}.receipts", uploads)
        if category is not None and amount is not None and description is not None:
            result.append(ExpenseLine(category, amount, description, receipts))
    return tuple(result)


def _read_receipts(
    problems: Problems, value: object, path: str, uploads: Mapping[str, ReceiptRef]
) -> tuple[ReceiptRef, ...]:
    """An expense's receipts: ids of files the organisation uploaded, each at most once."""
    found: list[ReceiptRef] = []
    items = problems.items(value, path, minimum=0, maximum=MAX_RECEIPTS_PER_EXPENSE, noun="receipt")
    for index, item in enumerate(items):
        ref = uploads.get(item) if isinstance(item, str) else None
        if ref is None:
            problems.add(f"{path}.{index}", N_("no receipt with this id was uploaded"))
        elif ref in found:
            problems.add(f"{path}.{index}", N_("is attached twice"))
        else:
            found.append(ref)
    return tuple(found)
