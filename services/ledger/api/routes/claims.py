"""Claims: submit, list, read, their history, and every lifecycle command."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from ...application import Ledger
from ...audit import record_claim_view
from ..commands import execute
from ..schemas import (
    AnswerIn,
    ApproveIn,
    ClaimAmendIn,
    ClaimIn,
    ClaimListArgs,
    ClaimOut,
    ClaimPage,
    HistoryOut,
    QueryIn,
    RejectIn,
    WithdrawIn,
)
from .common import IDEMPOTENCY_DOC, IF_MATCH_DOC, etag, if_match_version, principal_of
from .feed import event_json

_ACTIONS: dict[str, tuple[type[ma.Schema], str]] = {
    "approve": (
        ApproveIn,
        "Approve in full, or in part with a reason (the payer's approvers or finance; never "
        "your own claim).",
    ),
    "query": (QueryIn, "Ask the VCSE organisation a question; the claim waits for the answer."),
    "answer": (AnswerIn, "Answer the open query (the VCSE organisation)."),
    "reject": (RejectIn, "Reject with a reason (final)."),
    "withdraw": (WithdrawIn, "Withdraw a claim not yet approved (the VCSE organisation)."),
}


# Built once: a marshmallow schema (and its nested ones, built on first use) costs more to make
# than to use, and an instance is safe to share between threads (it keeps no per-call state).
_CLAIM_OUT = ClaimOut()
_CLAIM_IN = ClaimIn()


def build_claims(ledger: Ledger) -> Blueprint:
    blp = Blueprint("claims", __name__, description="Time claims and their lifecycle")

    def command(claim_id: str, action: str, data: dict[str, Any]) -> Response:
        principal = principal_of(ledger)
        version = if_match_version()

        def run(uow: Any) -> tuple[dict[str, Any], dict[str, str]]:
            claim = ledger.claim_command(uow, principal, claim_id, version, action, data)
            return claim, etag(claim["version"])

        return execute(ledger, principal, 200, _CLAIM_OUT, run)

    @blp.route("/claims")
    class Claims(MethodView):
        @blp.arguments(_CLAIM_IN)
        @blp.response(201, ClaimOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict[str, Any]) -> Response:
            """Submit a claim for time (and expenses) under a funding agreement.

            The ledger prices each line from the agreement's rate card."""
            principal = principal_of(ledger)

            def run(uow: Any) -> tuple[dict[str, Any], dict[str, str]]:
                claim = ledger.submit_claim(uow, principal, data)
                return claim, {**etag(claim["version"]), "Location": f"claims/{claim['id']}"}

            return execute(ledger, principal, 201, _CLAIM_OUT, run)

        @blp.arguments(ClaimListArgs, location="query")
        @blp.response(200, ClaimPage)
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """List the claims you may see, newest first, with filters and cursor paging."""
            principal = principal_of(ledger)
            return ledger.list_claims(principal, args)

    @blp.route("/claims/<claim_id>")
    class ClaimResource(MethodView):
        @blp.response(200, ClaimOut)
        def get(self, claim_id: str) -> Response:
            """One claim, with its lines, amounts and due dates. The ETag is its version."""
            principal = principal_of(ledger)
            claim = ledger.get_claim(principal, claim_id)
            record_claim_view(ledger.store.engine, ledger.clock(), principal.person_id, claim)
            response = jsonify(_CLAIM_OUT.dump(claim))
            response.headers.update(etag(claim["version"]))
            return response

        @blp.arguments(ClaimAmendIn)
        @blp.response(200, ClaimOut)
        @blp.doc(parameters=[IF_MATCH_DOC])
        def patch(self, data: dict[str, Any], claim_id: str) -> Response:
            """Amend the lines while submitted or queried (an amendment answers a query)."""
            return command(claim_id, "amend", data)

    @blp.route("/claims/<claim_id>/history")
    class ClaimHistory(MethodView):
        @blp.response(200, HistoryOut)
        def get(self, claim_id: str) -> dict[str, Any]:
            """Every event of the claim, and the payments allocated to it, in order."""
            principal = principal_of(ledger)
            events = ledger.claim_history(principal, claim_id)
            claim = ledger.get_claim(principal, claim_id)
            record_claim_view(ledger.store.engine, ledger.clock(), principal.person_id, claim)
            return {"events": [event_json(e) for e in events]}

    for action, (schema, doc) in _ACTIONS.items():
        _register_action(blp, action, schema, doc, command)

    return blp


def _register_action(
    blp: Blueprint, action: str, schema: type[ma.Schema], doc: str, command: Any
) -> None:
    class Action(MethodView):
        @blp.arguments(schema)
        @blp.response(200, ClaimOut)
        @blp.doc(parameters=[IF_MATCH_DOC, IDEMPOTENCY_DOC], summary=doc)
        def post(self, data: dict[str, Any], claim_id: str) -> Response:
            return command(claim_id, action, data)  # type: ignore[no-any-return]

    Action.__name__ = f"Claim{action.capitalize()}"
    blp.route(f"/claims/<claim_id>/{action}", endpoint=f"claim_{action}")(Action)
