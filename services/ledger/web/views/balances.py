"""Balances of a partnership as at a date: per VCSE organisation what was claimed, approved,
paid and is still owed, and how late it is (aging table and chart). A VCSE organisation sees
its own statement; a payer what it owes; a partner viewer everything."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from ...access import balance_scope
from ...application import Ledger
from ..forms import DateParts, fill_date_parts, parse_date_parts
from ..presenters import FormErrors
from ..queries import partnerships_of
from ..sessions import current_person, signed_in


def register(bp: Blueprint, ledger: Ledger) -> None:
    @bp.route("/balances")
    @signed_in
    def balances() -> Any:
        principal = current_person().principal
        if balance_scope(principal)[0] == "none":
            abort(403)
        found = partnerships_of(ledger, principal)
        if len(found) == 1:
            return redirect(url_for("web.partnership_balances", partnership_id=found[0]["id"]))
        return render_template("balances/index.html", partnerships=found)

    @bp.route("/partnerships/<partnership_id>/balances")
    @signed_in
    def partnership_balances(partnership_id: str) -> Any:
        principal = current_person().principal
        errors = FormErrors()
        # A GET form (nothing changes), so no CSRF token; the date defaults to today.
        as_at_form = DateParts(request.args, prefix="as_at")
        as_at: date | None = None
        status = 200
        try:
            as_at = parse_date_parts(as_at_form)
        except ValueError as error:
            errors.add("as_at", str(error))
            status = 400
        if as_at is None:
            as_at = ledger.today()
            fill_date_parts(as_at_form, as_at)
        result = ledger.balances(principal, partnership_id, as_at)
        names = {p["id"]: p["name"] for p in partnerships_of(ledger, principal)}
        scope = balance_scope(principal)[0]
        return (
            render_template(
                "balances/show.html",
                balances=result,
                partnership_name=names.get(partnership_id, ""),
                as_at=as_at,
                as_at_form=as_at_form,
                errors=errors,
                scope=scope,
            ),
            status,
        )
