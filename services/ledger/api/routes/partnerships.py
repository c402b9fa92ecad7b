"""Partnerships, their funding agreements and their balances."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from ...application import Ledger
from ..commands import execute
from ..schemas import (
    AgreementIn,
    AgreementOut,
    BalancesArgs,
    BalancesOut,
    PartnershipIn,
    PartnershipOut,
)
from .common import IDEMPOTENCY_DOC, principal_of


def build_partnerships(ledger: Ledger) -> Blueprint:
    blp = Blueprint("partnerships", __name__, description="Partnerships, agreements, balances")

    @blp.route("/partnerships")
    class Partnerships(MethodView):
        @blp.arguments(PartnershipIn)
        @blp.response(201, PartnershipOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict) -> Response:  # type: ignore[type-arg]
            """Form a partnership of statutory and VCSE organisations (operator)."""
            principal = principal_of(ledger)
            return execute(
                ledger,
                principal,
                201,
                PartnershipOut(),
                lambda uow: (ledger.form_partnership(uow, principal, data), {}),
            )

    @blp.route("/partnerships/<partnership_id>/agreements")
    class Agreements(MethodView):
        @blp.arguments(AgreementIn)
        @blp.response(201, AgreementOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict, partnership_id: str) -> Response:  # type: ignore[type-arg]
            """Sign a funding agreement between a statutory payer and a VCSE organisation
            (operator, or the payer's finance officer)."""
            principal = principal_of(ledger)
            return execute(
                ledger,
                principal,
                201,
                AgreementOut(),
                lambda uow: (ledger.sign_agreement(uow, principal, partnership_id, data), {}),
            )

    @blp.route("/partnerships/<partnership_id>/balances")
    class Balances(MethodView):
        @blp.arguments(BalancesArgs, location="query")
        @blp.response(200, BalancesOut)
        def get(self, args: dict, partnership_id: str) -> dict:  # type: ignore[type-arg]
            """Balances per VCSE organisation as at a date (default today), with aging.

            VCSE people see their own organisation, a payer's officers see what their
            organisation owes, partner viewers see everyone."""
            principal = principal_of(ledger)
            return ledger.balances(principal, partnership_id, args.get("as_at"))

    return blp
