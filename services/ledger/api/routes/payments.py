"""Payments from a statutory payer to a VCSE organisation, and their reversal."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from ...application import Ledger
from ..commands import execute
from ..schemas import PaymentIn, PaymentOut, ReverseIn
from .common import IDEMPOTENCY_DOC, principal_of


def build_payments(ledger: Ledger) -> Blueprint:
    blp = Blueprint("payments", __name__, description="Payments and reversals")

    @blp.route("/payments")
    class Payments(MethodView):
        @blp.arguments(PaymentIn)
        @blp.response(201, PaymentOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict[str, Any]) -> Response:
            """Record a payment allocated to approved claims (the payer's finance officers)."""
            principal = principal_of(ledger)
            return execute(
                ledger,
                principal,
                201,
                PaymentOut(),
                lambda uow: (ledger.record_payment(uow, principal, data), {}),
            )

    @blp.route("/payments/<payment_id>/reverse")
    class Reverse(MethodView):
        @blp.arguments(ReverseIn)
        @blp.response(200, PaymentOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict[str, Any], payment_id: str) -> Response:
            """Reverse a payment with a reason; its claims owe the amounts again."""
            principal = principal_of(ledger)
            return execute(
                ledger,
                principal,
                200,
                PaymentOut(),
                lambda uow: (ledger.reverse_payment(uow, principal, payment_id, data), {}),
            )

    return blp
