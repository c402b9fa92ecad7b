from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.ledger.domain.claim import Claim, submit_claim
from services.ledger.domain.errors import InvalidTransition, NotAllowed, ValidationFailed
from services.ledger.domain.payment import Payment
from shared.events.types import (
    ClaimAmended,
    ClaimApproved,
    ClaimQueried,
    ClaimSubmitted,
    PaymentRecorded,
)

from .builders import APPROVER, SUBMITTER, ClaimStory, agreement, expense, line

THU_2_APRIL = date(2026, 4, 2)
LATER = date(2026, 4, 20)


def submit(lines: Any, expenses: Any = (), today: date = THU_2_APRIL) -> ClaimSubmitted:
    return submit_claim("c1", agreement(), lines, expenses, submitted_by=SUBMITTER, today=today)


def errors_of(lines: Any, expenses: Any = (), today: date = THU_2_APRIL) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        submit(lines, expenses, today)
    return caught.value.errors


# ---- submission ------------------------------------------------------------------------------


def test_submit_prices_lines_and_starts_both_clocks() -> None:
    event = submit(
        [
            line(hours="2.75", activity="training"),  # 2.75 × 2000
            line(hours="3.5", activity="co_design", worker="Jo"),  # half day
            line(hours=7, worker="Sam"),  # day
        ],
        [expense()],
    )
    assert [(ln.amount_pence, ln.rate_basis) for ln in event.lines] == [
        (5500, "hourly"),
        (8000, "half_day"),
        (15000, "day"),
    ]
    assert event.lines[0].hours == Decimal("2.75")
    assert event.amount_pence == 5500 + 8000 + 15000 + 1240
    assert event.submitted_on == THU_2_APRIL
    assert event.approval_due == date(2026, 4, 13)  # Easter in England
    assert event.payment_due == date(2026, 5, 2)
    assert (event.partnership_id, event.payer_id, event.payee_id) == ("p1", "icb", "hope")
    claim = Claim.replay([event])
    assert claim.status == "submitted"
    assert claim.version == 1
    assert claim.outstanding_pence == 0
    assert claim.awaiting_approval_pence == event.amount_pence
    assert claim.hours == Decimal("13.25")


def test_submit_accepts_parsed_values() -> None:
    event = submit([line(worked_on=date(2026, 3, 2), hours=Decimal("1.5"))])
    assert event.lines[0].amount_pence == 3750


def test_submit_collects_every_field_error() -> None:
    errors = errors_of(
        [
            line(worked_on="2026-04-03", hours="3.3", activity="lunch", worker=" "),
            line(worked_on="2025-12-31", description="x" * 501, colour="red"),
            "not a line",
        ],
        [expense(category="yacht", amount_pence=True), expense(amount_pence=-1, description="")],
    )
    assert errors == {
        "lines.0.worked_on": ["must not be in the future"],
        "lines.0.hours": ["hours must be in quarter-hour steps"],
        "lines.0.activity": [
            "must be one of: meeting, co_design, peer_learning, buddy_scheme, training, "
            "travel, preparation, other"
        ],
        "lines.0.worker": ["is required"],
        "lines.1.colour": ["unknown field"],
        "lines.1.worked_on": ["must be within the agreement (2026-01-01 to 2027-03-31)"],
        "lines.1.description": ["must be at most 500 characters"],
        "lines.2": ["must be an object"],
        "expenses.0.category": [
            "must be one of: travel, subsistence, childcare, care, materials, venue, other"
        ],
        "expenses.0.amount_pence": ["must be a whole number of pence"],
        "expenses.1.amount_pence": ["must be positive"],
        "expenses.1.description": ["is required"],
    }


def test_a_claim_needs_at_least_one_line() -> None:
    assert errors_of([]) == {"lines": ["at least one line is required"]}
    assert errors_of(None) == {"lines": ["at least one line is required"]}
    assert errors_of({"worked_on": "2026-03-02"}) == {"lines": ["must be a list"]}


def test_work_after_the_agreement_ends_is_refused() -> None:
    errors = errors_of([line(worked_on="2027-04-01")], today=date(2027, 4, 2))
    assert errors == {
        "lines.0.worked_on": ["must be within the agreement (2026-01-01 to 2027-03-31)"]
    }


def test_a_worker_cannot_claim_more_than_24_hours_in_a_day() -> None:
    errors = errors_of([line(hours="20"), line(hours="4.25", worker=" amina khan ")])
    assert errors == {"lines.1.hours": ["amina khan's hours on 2026-03-02 add up to more than 24"]}
    submit([line(hours="20"), line(hours="4")])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours", True, "hours must be a number"),
        ("hours", None, "is required"),
        ("hours", "25", "hours must be between 0.25 and 24"),
        ("worked_on", "2026-3-2", "must be a date (YYYY-MM-DD)"),
        ("worked_on", 20260302, "must be a date (YYYY-MM-DD)"),
        ("worker", 42, "must be text"),
    ],
)
def test_line_field_messages(field: str, value: object, message: str) -> None:
    assert errors_of([line(**{field: value})]) == {f"lines.0.{field}": [message]}


# ---- transitions -----------------------------------------------------------------------------


def story_in(status: str) -> ClaimStory:
    story = ClaimStory()
    if status == "queried":
        story.then(story.claim.query("Which meeting?", by=APPROVER, today=date(2026, 4, 3)))
    elif status == "rejected":
        story.then(story.claim.reject("Not in scope", by=APPROVER, today=date(2026, 4, 3)))
    elif status == "withdrawn":
        story.then(story.claim.withdraw(by=SUBMITTER, today=date(2026, 4, 3)))
    elif status in {"approved", "part_paid", "paid"}:
        story.approved()
        if status == "part_paid":
            story.paid(1000, on=date(2026, 4, 4))
        if status == "paid":
            story.paid(5000, on=date(2026, 4, 4))
    assert story.claim.status == status
    return story


Command = Callable[[Claim], object]
COMMANDS: dict[str, Command] = {
    "amend": lambda c: c.amend([line(hours="3")], agreement=agreement(), by=SUBMITTER, today=LATER),
    "query": lambda c: c.query("Which meeting?", by=APPROVER, today=LATER),
    "answer": lambda c: c.answer("The board", by=SUBMITTER, today=LATER),
    "approve": lambda c: c.approve(by=APPROVER, today=LATER),
    "reject": lambda c: c.reject("Not in scope", by=APPROVER, today=LATER),
    "withdraw": lambda c: c.withdraw(by=SUBMITTER, today=LATER),
}
ALLOWED = {
    "amend": {"submitted", "queried"},
    "query": {"submitted"},
    "answer": {"queried"},
    "approve": {"submitted"},
    "reject": {"submitted", "queried"},
    "withdraw": {"submitted", "queried"},
}
STATUSES = ("submitted", "queried", "approved", "part_paid", "paid", "rejected", "withdrawn")
RESULT = {
    "amend": "submitted",
    "query": "queried",
    "answer": "submitted",
    "approve": "approved",
    "reject": "rejected",
    "withdraw": "withdrawn",
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_transition_is_allowed_or_refused(command: str, status: str) -> None:
    story = story_in(status)
    before = story.claim
    if status in ALLOWED[command]:
        event = COMMANDS[command](before)
        after = before.apply(event)  # type: ignore[arg-type]
        assert after.status == RESULT[command]
        assert after.version == before.version + 1
    else:
        with pytest.raises(InvalidTransition) as caught:
            COMMANDS[command](before)
        assert "claim" in caught.value.message
    assert story.claim == before  # commands decide; they never change the claim


def test_refusal_messages_name_the_state() -> None:
    with pytest.raises(InvalidTransition, match="^a withdrawn claim cannot be approved$"):
        story_in("withdrawn").claim.approve(by=APPROVER, today=LATER)
    with pytest.raises(InvalidTransition, match="^an approved claim cannot be withdrawn$"):
        story_in("approved").claim.withdraw(by=SUBMITTER, today=LATER)
    with pytest.raises(InvalidTransition, match="until its query is answered"):
        story_in("queried").claim.approve(by=APPROVER, today=LATER)
    with pytest.raises(InvalidTransition, match="no open query"):
        story_in("submitted").claim.answer("hi", by=SUBMITTER, today=LATER)
    with pytest.raises(InvalidTransition, match="already has an open query"):
        story_in("queried").claim.query("again?", by=APPROVER, today=LATER)


def test_nobody_approves_queries_or_rejects_a_claim_they_submitted_or_amended() -> None:
    story = ClaimStory()
    with pytest.raises(NotAllowed, match="you cannot approve a claim you submitted or amended"):
        story.claim.approve(by=SUBMITTER, today=LATER)
    story.then(
        story.claim.amend([line(hours="3")], agreement=story.agreement, by="kim", today=LATER)
    )
    assert story.claim.amended_by == frozenset({"kim"})
    for by in (SUBMITTER, "kim"):
        with pytest.raises(NotAllowed):
            story.claim.approve(by=by, today=LATER)
        with pytest.raises(NotAllowed):
            story.claim.query("?", by=by, today=LATER)
        with pytest.raises(NotAllowed):
            story.claim.reject("no", by=by, today=LATER)
    assert story.claim.approve(by=APPROVER, today=LATER).amount_pence == 7500


def test_partial_approval_needs_a_reason_and_stays_within_the_claim() -> None:
    claim = ClaimStory().claim  # 5000 claimed
    with pytest.raises(ValidationFailed) as caught:
        claim.approve(by=APPROVER, today=LATER, amount_pence=4000)
    assert caught.value.errors == {"reason": ["a reason is required for a partial approval"]}
    partial = claim.approve(by=APPROVER, today=LATER, amount_pence=4000, reason="One hour less")
    assert (partial.amount_pence, partial.claimed_pence, partial.reason) == (
        4000,
        5000,
        "One hour less",
    )
    after = claim.apply(partial)
    assert (after.approved_pence, after.outstanding_pence, after.decision_reason) == (
        4000,
        4000,
        "One hour less",
    )
    for amount, message in [
        (5001, "must not exceed the claimed £50.00"),
        (0, "must be positive"),
        (-5, "must be positive"),
        (True, "must be a whole number of pence"),
        (40.0, "must be a whole number of pence"),
        ("4000", "must be a whole number of pence"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            claim.approve(by=APPROVER, today=LATER, amount_pence=amount, reason="r")
        assert caught.value.errors == {"amount_pence": [message]}
    full = claim.approve(by=APPROVER, today=LATER, amount_pence=5000)
    assert full.reason is None


def test_query_reject_and_answer_need_text() -> None:
    story = story_in("queried")
    with pytest.raises(ValidationFailed) as caught:
        story.claim.answer("  ", by=SUBMITTER, today=LATER)
    assert caught.value.errors == {"answer": ["is required"]}
    with pytest.raises(ValidationFailed) as caught:
        story.claim.reject(None, by=APPROVER, today=LATER)
    assert caught.value.errors == {"reason": ["is required"]}
    with pytest.raises(ValidationFailed) as caught:
        story_in("submitted").claim.query("", by=APPROVER, today=LATER)
    assert caught.value.errors == {"question": ["is required"]}


def test_amendment_reprices_and_answers_an_open_query() -> None:
    story = story_in("queried")
    assert story.claim.open_question == "Which meeting?"
    event = story.claim.amend(
        [line(hours="4")], [expense()], agreement=story.agreement, by=SUBMITTER, today=LATER
    )
    assert isinstance(event, ClaimAmended)
    assert event.answers_query is True
    assert event.amount_pence == 8000 + 1240
    claim = story.then(event).claim
    assert claim.status == "submitted"
    assert claim.open_question is None
    assert claim.queries[-1].closed_on == LATER
    assert claim.amount_pence == 9240
    assert claim.approval_due == date(2026, 4, 13)  # receipt is the first submission
    assert (
        not story_in("submitted")
        .claim.amend([line()], agreement=story.agreement, by=SUBMITTER, today=LATER)
        .answers_query
    )


def test_amendment_is_validated_like_a_submission() -> None:
    claim = ClaimStory().claim
    with pytest.raises(ValidationFailed) as caught:
        claim.amend([line(hours="0")], agreement=agreement(), by=SUBMITTER, today=LATER)
    assert caught.value.errors == {"lines.0.hours": ["hours must be between 0.25 and 24"]}
    with pytest.raises(ValueError, match="own agreement"):
        claim.amend([line()], agreement=agreement(agreement_id="a2"), by=SUBMITTER, today=LATER)


# ---- clocks ----------------------------------------------------------------------------------


def test_a_query_pauses_the_payment_clock_but_not_the_approval_clock() -> None:
    story = ClaimStory(on=THU_2_APRIL)  # payment due 2 May, approval due 13 April
    story.then(story.claim.query("Receipts?", by=APPROVER, today=date(2026, 4, 10)))
    claim = story.claim
    assert claim.approval_due == date(2026, 4, 13)
    assert claim.queried_days(date(2026, 4, 10)) == 0
    assert claim.queried_days(date(2026, 4, 12)) == 2  # open: counted up to as_at
    assert claim.payment_due(date(2026, 4, 12)) == date(2026, 5, 4)
    story.then(claim.answer("Attached", by=SUBMITTER, today=date(2026, 4, 14)))
    claim = story.claim
    assert claim.queried_days(date(2026, 6, 1)) == 4
    assert claim.payment_due(date(2026, 6, 1)) == date(2026, 5, 6)
    assert claim.payment_due(date(2026, 4, 11)) == date(2026, 5, 3)  # as known then
    assert claim.approval_due == date(2026, 4, 13)
    # A second query adds its own days.
    story.then(claim.query("And the venue?", by=APPROVER, today=date(2026, 4, 20)))
    story.then(story.claim.answer("Town hall", by=SUBMITTER, today=date(2026, 4, 21)))
    assert story.claim.payment_due(date(2026, 6, 1)) == date(2026, 5, 7)
    assert len(story.claim.queries) == 2


def test_a_rejection_closes_the_dispute_clock() -> None:
    story = story_in("queried")  # queried 3 April
    story.then(story.claim.reject("No evidence", by=APPROVER, today=date(2026, 4, 8)))
    assert story.claim.queried_days(date(2026, 6, 1)) == 5


def test_payments_do_not_bump_the_claim_version() -> None:
    story = story_in("approved")
    assert story.claim.version == 2
    story.paid(1000, on=date(2026, 4, 4))
    assert story.claim.version == 2
    assert story.claim.paid_pence == 1000


def test_commands_refuse_a_clock_running_backwards() -> None:
    with pytest.raises(ValueError, match="before the claim's last event"):
        story_in("submitted").claim.approve(by=APPROVER, today=THU_2_APRIL - timedelta(days=1))
    payment = story_in("paid").events[-1]
    assert isinstance(payment, PaymentRecorded)
    with pytest.raises(ValueError, match="before the payment date"):
        Payment.replay([payment]).reverse("r", by=APPROVER, today=THU_2_APRIL)


def test_replay_needs_a_submission_first_and_the_claims_own_events() -> None:
    with pytest.raises(ValueError, match="starts with ClaimSubmitted"):
        Claim.replay([])
    story = ClaimStory()
    other = ClaimStory("c2").claim.query("?", by=APPROVER, today=LATER)
    with pytest.raises(ValueError, match="of claim c2"):
        story.claim.apply(other)
    with pytest.raises(ValueError):
        story.claim.apply(story.events[0])  # submitted twice
    assert isinstance(story.claim.query("?", by=APPROVER, today=LATER), ClaimQueried)
    assert isinstance(story.claim.approve(by=APPROVER, today=LATER), ClaimApproved)
