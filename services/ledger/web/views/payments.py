"""Finance: record a payment allocated across several approved claims of one VCSE
organisation, see payments, reverse one with a reason."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from shared.i18n import gettext

from ...access import Principal, can_pay_for_payer
from ...application import Ledger
from ...domain.errors import ValidationFailed
from ..forms import PaymentForm, ReverseForm, fill_date_parts, parse_date_parts, parse_pounds
from ..presenters import FormErrors, claim_reference, money
from ..queries import names_of_organisations, payments_of, visible_payment
from ..sessions import current_person, requires, signed_in
from .claims import add_domain_errors
from .common import all_claims, run


def _finance(principal: Principal) -> bool:
    return "finance" in principal.roles


def payable_claims(ledger: Ledger, principal: Principal) -> dict[str, list[dict[str, Any]]]:
    """Approved claims the principal's organisation still owes money on, by payee."""
    by_payee: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for status in ("approved", "part_paid"):
        for claim in all_claims(ledger, principal, status=status):
            if claim["payer_id"] == principal.organisation_id and claim["outstanding_pence"] > 0:
                by_payee[claim["payee_id"]].append(claim)
    for claims in by_payee.values():
        claims.sort(key=lambda c: (c["payment_due"], c["id"]))
    return dict(by_payee)


def register(bp: Blueprint, ledger: Ledger) -> None:
    @bp.route("/payments")
    @signed_in
    def payments() -> Any:
        principal = current_person().principal
        if not _finance(principal):
            abort(403)
        found = payments_of(ledger, principal)
        organisations = names_of_organisations(ledger, [p["payee_id"] for p in found])
        return render_template("payments/list.html", payments=found, organisations=organisations)

    @bp.route("/payments/new", methods=["GET", "POST"])
    @requires(_finance)
    def new_payment() -> Any:
        principal = current_person().principal
        owed = payable_claims(ledger, principal)
        organisations = names_of_organisations(ledger, owed)
        form = PaymentForm()
        payee_id = form.payee_id.data or request.args.get("payee") or ""
        if not payee_id and len(owed) == 1:
            payee_id = next(iter(owed))
        if payee_id not in owed:
            return render_template(
                "payments/choose_payee.html", owed=owed, organisations=organisations
            )
        claims = owed[payee_id]
        if request.method == "GET":
            form.payee_id.data = payee_id
            fill_date_parts(form.paid_on.form, ledger.today())
            for claim in claims:
                form.allocations.append_entry({"claim_id": claim["id"], "amount": ""})
        by_id = {c["id"]: c for c in claims}
        row_claims = [by_id.get(entry.form.claim_id.data or "") for entry in form.allocations]
        errors = FormErrors(
            row_names={
                "allocations": [
                    gettext("Claim %(reference)s", reference=claim_reference(c["id"]))
                    if c
                    else gettext("Claim")
                    for c in row_claims
                ]
            }
        )
        page = {
            "form": form,
            "errors": errors,
            "rows": list(zip(form.allocations, row_claims, strict=True)),
            "payee_name": organisations.get(payee_id, ""),
        }
        if request.method == "GET":
            return render_template("payments/new.html", **page)
        data, rows = _read_payment(form, principal, payee_id, errors)
        if errors:
            return render_template("payments/new.html", **page), 400
        refused = FormErrors()
        result = run(ledger, refused, lambda uow: ledger.record_payment(uow, principal, data))
        if result is None:
            add_domain_errors(errors, ValidationFailed(refused.errors), {"allocations": rows})
            return render_template("payments/new.html", **page), 400
        flash(
            gettext(
                "Payment of %(amount)s to %(payee)s recorded (reference %(reference)s).",
                amount=money(result["amount_pence"]),
                payee=page["payee_name"],
                reference=result["reference"],
            ),
            "success",
        )
        return redirect(url_for("web.payments"))

    def _read_payment(
        form: PaymentForm, principal: Principal, payee_id: str, errors: FormErrors
    ) -> tuple[dict[str, Any], list[int]]:
        paid_on: date | None = None
        try:
            paid_on = parse_date_parts(form.paid_on.form)
        except ValueError as error:
            errors.add("paid_on", str(error))
        allocations = []
        rows = []
        for row, entry in enumerate(form.allocations.entries):
            try:
                amount = parse_pounds(entry.form.amount.data)
            except ValueError as error:
                errors.add(f"allocations.{row}.amount_pence", str(error))
                continue
            if amount is None:
                continue
            allocations.append({"claim_id": entry.form.claim_id.data, "amount_pence": amount})
            rows.append(row)
        if not allocations and not errors:
            errors.add("allocations", "enter an amount for at least one claim")
        data = {
            "payer_id": principal.organisation_id,
            "payee_id": payee_id,
            "paid_on": paid_on,
            "reference": form.reference.data,
            "allocations": allocations,
        }
        return data, rows

    @bp.route("/payments/<payment_id>/reverse", methods=["GET", "POST"])
    @requires(_finance)
    def reverse_payment(payment_id: str) -> Any:
        principal = current_person().principal
        payment = visible_payment(ledger, principal, payment_id)
        if payment is None:
            abort(404)
        if not can_pay_for_payer(principal, payment["payer_id"]):
            abort(403)
        form = ReverseForm()
        errors = FormErrors()
        payee = names_of_organisations(ledger, [payment["payee_id"]]).get(payment["payee_id"], "")
        page = {"form": form, "errors": errors, "payment": payment, "payee_name": payee}
        if request.method == "GET":
            return render_template("payments/reverse.html", **page)
        result = run(
            ledger,
            errors,
            lambda uow: ledger.reverse_payment(
                uow, principal, payment_id, {"reason": form.reason.data}
            ),
        )
        if result is None:
            return render_template("payments/reverse.html", **page), 400
        flash(
            gettext(
                "Payment %(reference)s of %(amount)s was reversed. "
                "The claims it paid are owed again.",
                reference=payment["reference"],
                amount=money(payment["amount_pence"]),
            ),
            "success",
        )
        return redirect(url_for("web.payments"))
