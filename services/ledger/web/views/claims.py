"""The VCSE side: make a claim (with a check-your-answers page that prices it without
saving), see claims and their clocks, answer a query, withdraw."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from shared.events import catalogue
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

from ...access import VCSE_ROLES, can_act_for_payee, can_decide_for_payer
from ...application import Ledger
from ...audit import record_claim_view
from ...domain.claim import UNDECIDED, submit_claim
from ...domain.errors import ValidationFailed
from ...store.event_store import UnitOfWork
from ...store.idempotency import (
    InFlight,
    Mismatch,
    Replay,
    idempotency_scope,
    request_fingerprint,
)
from ..forms import (
    ACTIVITY_CHOICES,
    CATEGORY_CHOICES,
    MAX_FORM_ROWS,
    AnswerForm,
    ClaimForm,
    WithdrawForm,
    is_blank,
    parse_date_parts,
    parse_pounds,
)
from ..presenters import FormErrors, claim_reference, long_date, money
from ..queries import agreements_for_payee, names_of_organisations, names_of_people
from ..sessions import current_person, requires, signed_in
from .common import all_claims, claim_command_page, run


def _is_vcse(principal: Any) -> bool:
    return bool(principal.has_any(VCSE_ROLES))


def row_index(entry: Any) -> int:
    """The row number in the field's name (`lines-3` → 3), as the page shows it."""
    return int(entry.name.rsplit("-", 1)[1])


def read_claim_form(form: ClaimForm, errors: FormErrors) -> dict[str, Any]:
    """The claim typed into the form, as the domain's input (blank rows left out). Parse
    errors go into `errors` under the form's row numbers; `index` maps the domain's row
    numbers back to the form's."""
    lines: list[dict[str, Any]] = []
    line_rows: list[int] = []
    for entry in form.lines.entries:
        row = row_index(entry)
        sub = entry.form
        if is_blank(sub):
            continue
        worked_on: date | None = None
        try:
            worked_on = parse_date_parts(sub.worked_on.form)
        except ValueError as error:
            errors.add(f"lines.{row}.worked_on", str(error))
        lines.append(
            {
                "worked_on": worked_on,
                "hours": (sub.hours.data or "").strip() or None,
                "activity": sub.activity.data or None,
                "worker": sub.worker.data,
                "description": sub.description.data,
            }
        )
        line_rows.append(row)
    expenses: list[dict[str, Any]] = []
    expense_rows: list[int] = []
    for entry in form.expenses.entries:
        row = row_index(entry)
        sub = entry.form
        if is_blank(sub):
            continue
        amount: int | None = None
        try:
            amount = parse_pounds(sub.amount.data)
        except ValueError as error:
            errors.add(f"expenses.{row}.amount_pence", str(error))
        expenses.append(
            {
                "category": sub.category.data or None,
                "amount_pence": amount,
                "description": sub.description.data,
            }
        )
        expense_rows.append(row)
    return {
        "agreement_id": form.agreement_id.data,
        "lines": lines,
        "expenses": expenses,
        "_rows": {"lines": line_rows, "expenses": expense_rows},
    }


def add_domain_errors(
    errors: FormErrors, failed: ValidationFailed, rows: dict[str, list[int]]
) -> None:
    """The domain's paths count only the rows sent; put each error on the form's row."""
    for path, messages in failed.errors.items():
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] in rows and parts[1].isdigit():
            index = int(parts[1])
            if index < len(rows[parts[0]]):
                parts[1] = str(rows[parts[0]][index])
        mapped = ".".join(parts)
        if mapped in errors:  # already explained (e.g. an impossible date)
            continue
        for message in messages:
            errors.add(mapped, message)


def describe_event(event: Any, claim_id: str, money_of: Any = money) -> tuple[str, str | None]:
    """What happened, and the text that came with it (a question, an answer, a reason)."""
    if isinstance(event, ClaimSubmitted):
        return f"Submitted for {money_of(event.amount_pence)}", None
    if isinstance(event, ClaimAmended):
        return f"Amended to {money_of(event.amount_pence)}", None
    if isinstance(event, ClaimQueried):
        return "Queried", event.question
    if isinstance(event, ClaimQueryAnswered):
        return "Query answered", event.answer
    if isinstance(event, ClaimApproved):
        if event.amount_pence < event.claimed_pence:
            amounts = f"{money_of(event.amount_pence)} of {money_of(event.claimed_pence)}"
            return f"Approved in part: {amounts}", event.reason
        return f"Approved in full: {money_of(event.amount_pence)}", event.reason
    if isinstance(event, ClaimRejected):
        return "Rejected", event.reason
    if isinstance(event, ClaimWithdrawn):
        return "Withdrawn", None
    if isinstance(event, PaymentRecorded | PaymentReversed):
        share = sum(a.amount_pence for a in event.allocations if a.claim_id == claim_id)
        if isinstance(event, PaymentReversed):
            return f"Payment of {money_of(share)} reversed", event.reason
        return f"Paid {money_of(share)} (reference {event.reference})", None
    return type(event).__name__, None  # pragma: no cover - every claim event is above


def _actor(event: Any) -> str | None:
    for name in (
        "submitted_by",
        "amended_by",
        "queried_by",
        "answered_by",
        "approved_by",
        "rejected_by",
        "withdrawn_by",
        "recorded_by",
        "reversed_by",
    ):
        if hasattr(event, name):
            return str(getattr(event, name))
    return None


def _when(event: Any) -> date | None:
    for name in (
        "submitted_on",
        "amended_on",
        "queried_on",
        "answered_on",
        "approved_on",
        "rejected_on",
        "withdrawn_on",
        "paid_on",
        "reversed_on",
    ):
        if hasattr(event, name):
            return getattr(event, name)  # type: ignore[no-any-return]
    return None


class OneSubmission:
    """A claim form submits once: the check page carries a one-time submission id, used as
    the idempotency key of the submission (a second press, a refresh or a resent form finds
    the claim the first one made instead of making another)."""

    SCOPE_PATH = "/claims/new"

    def __init__(self, ledger: Ledger, person_id: str, submission_id: str | None) -> None:
        self.ledger = ledger
        self.key = submission_id if submission_id and len(submission_id) <= 64 else None
        self.scope = idempotency_scope(person_id, "POST", self.SCOPE_PATH)

    def submit_once(
        self, uow: UnitOfWork, data: dict[str, Any], submit: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """In the submission's own unit of work: `submit()` and record it under the key, or
        raise `AlreadySubmitted` (with the claim the first press made) or
        `SubmissionInProgress` (the same submission is being saved right now). Nothing is
        written before the claim is, so a failed or crashed submission leaves the key free."""
        if self.key is None:
            return submit()
        fingerprint = request_fingerprint("POST", self.SCOPE_PATH, data)
        outcome = self.ledger.idempotency.begin(uow, self.scope, self.key, fingerprint)
        if isinstance(outcome, Replay):
            raise AlreadySubmitted(str(outcome.body["id"]))
        if isinstance(outcome, Mismatch | InFlight):
            raise SubmissionInProgress()
        claim = submit()
        self.ledger.idempotency.complete(
            uow, self.scope, self.key, fingerprint, 201, {}, {"id": claim["id"]}
        )
        return claim


class AlreadySubmitted(Exception):
    """This claim form was already submitted: `claim_id` is the claim it made."""

    def __init__(self, claim_id: str) -> None:
        super().__init__(claim_id)
        self.claim_id = claim_id


class SubmissionInProgress(Exception):
    """The same claim form is being submitted right now (a double press)."""


def register(bp: Blueprint, ledger: Ledger) -> None:
    @bp.route("/claims")
    @signed_in
    def claims() -> Any:
        principal = current_person().principal
        found = all_claims(ledger, principal)
        organisations = names_of_organisations(
            ledger, [c["payee_id"] for c in found] + [c["payer_id"] for c in found]
        )
        return render_template(
            "claims/list.html",
            claims=found,
            organisations=organisations,
            can_claim=_is_vcse(principal),
        )

    @bp.route("/claims/new", methods=["GET", "POST"])
    @requires(_is_vcse)
    def new_claim() -> Any:
        principal = current_person().principal
        form = ClaimForm()
        choices = agreements_for_payee(ledger, principal)
        errors = FormErrors()
        if not choices:
            return render_template("claims/no_agreement.html")
        if request.method == "GET":
            form.agreement_id.data = choices[0]["id"]
            return _edit(form, errors, choices)
        action = request.form.get("action", "check")
        if action == "add_line" and len(form.lines.entries) < MAX_FORM_ROWS:
            form.lines.append_entry()
            return _edit(form, errors, choices)
        if action == "add_expense" and len(form.expenses.entries) < MAX_FORM_ROWS:
            form.expenses.append_entry()
            return _edit(form, errors, choices)
        if action == "change":
            return _edit(form, errors, choices)
        data = read_claim_form(form, errors)
        rows = data.pop("_rows")
        if data["agreement_id"] not in {a["id"] for a in choices}:
            errors.add("agreement_id", "is required")
            return _edit(form, errors, choices, status=400)
        with ledger.reading() as uow:
            agreement = ledger.load_agreement(uow, data["agreement_id"])
        assert agreement is not None
        try:
            # The domain prices the lines (price_line) exactly as a submission will, and
            # checks every rule, but nothing is saved: this is the check-your-answers page.
            preview = submit_claim(
                "preview",
                agreement,
                data["lines"],
                data["expenses"],
                submitted_by=principal.person_id,
                today=ledger.today(),
            )
        except ValidationFailed as failed:
            add_domain_errors(errors, failed, rows)
            return _edit(form, errors, choices, status=400)
        if errors:
            return _edit(form, errors, choices, status=400)
        if action != "submit":
            payer = next(a for a in choices if a["id"] == data["agreement_id"])
            return render_template(
                "claims/check.html",
                form=form,
                preview=preview,
                payer=payer,
                submission_id=uuid.uuid4().hex,
            )
        submission = OneSubmission(ledger, principal.person_id, request.form.get("submission_id"))
        try:
            result = run(
                ledger,
                errors,
                lambda uow: submission.submit_once(
                    uow, data, lambda: ledger.submit_claim(uow, principal, data)
                ),
            )
        except SubmissionInProgress:
            errors.add("_schema", "This claim is already being submitted: check your claims")
            return _edit(form, errors, choices, status=409)
        except AlreadySubmitted as earlier:
            flash(f"Claim {claim_reference(earlier.claim_id)} was already submitted.", "success")
            return redirect(url_for("web.claim", claim_id=earlier.claim_id))
        if result is None:
            return _edit(form, errors, choices, status=400)
        flash(
            f"Claim {claim_reference(result['id'])} submitted for "
            f"{money(result['amount_pence'])}. Approval is due by "
            f"{long_date(result['approval_due'])}.",
            "success",
        )
        return redirect(url_for("web.claim", claim_id=result["id"]))

    def _edit(
        form: ClaimForm, errors: FormErrors, choices: list[dict[str, Any]], status: int = 200
    ) -> Any:
        return (
            render_template(
                "claims/new.html",
                form=form,
                errors=errors,
                choices=choices,
                agreement_choices=[
                    (a["id"], f"{a['payer_name']} ({a['partnership_name']})") for a in choices
                ],
                ACTIVITY_CHOICES=ACTIVITY_CHOICES,
                CATEGORY_CHOICES=CATEGORY_CHOICES,
            ),
            status,
        )

    @bp.route("/claims/<claim_id>")
    @signed_in
    def claim(claim_id: str) -> Any:
        principal = current_person().principal
        found = ledger.get_claim(principal, claim_id)
        history = ledger.claim_history(principal, claim_id)
        events = [catalogue.from_data(e.type, e.schema_version, e.data) for e in history]
        people = names_of_people(ledger, [_actor(e) or "" for e in events])
        organisations = names_of_organisations(ledger, [found["payer_id"], found["payee_id"]])
        timeline = []
        for stored, event in zip(history, events, strict=True):
            what, text = describe_event(event, claim_id)
            timeline.append(
                {
                    "what": what,
                    "text": text,
                    "who": people.get(_actor(event) or "", "Someone"),
                    "on": _when(event) or stored.occurred_at.date(),
                }
            )
        payee_side = can_act_for_payee(principal, found["payee_id"])
        payer_side = can_decide_for_payer(principal, found["payer_id"])
        # The page shows the worker's name, the description and the people who acted.
        record_claim_view(ledger.store.engine, ledger.clock(), principal.person_id, found)
        return render_template(
            "claims/show.html",
            claim=found,
            timeline=timeline,
            organisations=organisations,
            can_answer=payee_side and found["status"] == "queried",
            can_withdraw=payee_side and found["status"] in UNDECIDED,
            can_decide=payer_side and found["status"] == "submitted",
            can_reject=payer_side and found["status"] in UNDECIDED,
            submitted_by=people.get(found["submitted_by"], ""),
        )

    @bp.route("/claims/<claim_id>/answer", methods=["GET", "POST"])
    @requires(_is_vcse)
    def answer_claim(claim_id: str) -> Any:
        form = AnswerForm()
        return claim_command_page(
            ledger,
            claim_id,
            form,
            "answer",
            "claims/answer.html",
            lambda: {"answer": form.answer.data},
            "Your answer was sent. The claim is back with the approver.",
        )

    @bp.route("/claims/<claim_id>/withdraw", methods=["GET", "POST"])
    @requires(_is_vcse)
    def withdraw_claim(claim_id: str) -> Any:
        form = WithdrawForm()
        return claim_command_page(
            ledger,
            claim_id,
            form,
            "withdraw",
            "claims/withdraw.html",
            lambda: {},
            "The claim was withdrawn.",
        )
