"""The approver's side: a queue ordered by approval due date (overdue marked), and the
decisions — approve in full or in part, query, reject. Never their own claims: the domain
refuses, and the page says why."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from shared.i18n import gettext

from ...access import APPROVING_ROLES, Principal
from ...application import Ledger
from ...domain.errors import ValidationFailed
from ..forms import ApproveForm, QueryForm, RejectForm, parse_pounds
from ..queries import names_of_organisations
from ..sessions import current_person, requires
from .common import approval_queue, claim_command_page


def _approves(principal: Principal) -> bool:
    return principal.has_any(APPROVING_ROLES)


def approval_data(form: ApproveForm) -> dict[str, Any]:
    """In full, or in part with an amount in pounds and a reason."""
    if form.how.data == "full":
        return {}
    if form.how.data != "part":
        raise ValidationFailed.on("how", "is required")
    try:
        amount = parse_pounds(form.amount.data)
    except ValueError as error:
        raise ValidationFailed.on("amount_pence", str(error)) from error
    if amount is None:
        raise ValidationFailed.on("amount_pence", "is required")
    return {"amount_pence": amount, "reason": form.reason.data}


def register(bp: Blueprint, ledger: Ledger) -> None:
    @bp.route("/approvals")
    @requires(_approves)
    def approvals() -> Any:
        principal = current_person().principal
        queue = approval_queue(ledger, principal)
        organisations = names_of_organisations(ledger, [c["payee_id"] for c in queue])
        return render_template(
            "decisions/queue.html",
            to_decide=[c for c in queue if c["status"] == "submitted"],
            waiting=[c for c in queue if c["status"] == "queried"],
            organisations=organisations,
        )

    @bp.route("/claims/<claim_id>/approve", methods=["GET", "POST"])
    @requires(_approves)
    def approve_claim(claim_id: str) -> Any:
        form = ApproveForm()
        return claim_command_page(
            ledger,
            claim_id,
            form,
            "approve",
            "decisions/approve.html",
            lambda: approval_data(form),
            gettext("The claim was approved."),
        )

    @bp.route("/claims/<claim_id>/query", methods=["GET", "POST"])
    @requires(_approves)
    def query_claim(claim_id: str) -> Any:
        form = QueryForm()
        return claim_command_page(
            ledger,
            claim_id,
            form,
            "query",
            "decisions/query.html",
            lambda: {"question": form.question.data},
            gettext("Your question was sent. The payment clock is paused until it is answered."),
        )

    @bp.route("/claims/<claim_id>/reject", methods=["GET", "POST"])
    @requires(_approves)
    def reject_claim(claim_id: str) -> Any:
        form = RejectForm()
        return claim_command_page(
            ledger,
            claim_id,
            form,
            "reject",
            "decisions/reject.html",
            lambda: {"reason": form.reason.data},
            gettext("The claim was rejected."),
        )
