"""E-invoices on the pages: on an approved claim's page the VCSE organisation creates its
e-invoice, and both sides download it (UBL XML and PDF); the statement page lists the invoices
between its VCSE organisation and payer, and the VCSE side creates a month's invoice there.
The templates ask `invoice_for(claim)` and `invoice_panel(pair)` (context functions), so the
claim and statement views need not know about invoices."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from flask import Blueprint, abort, flash, redirect, request, url_for

from shared.claim_position import APPROVED
from shared.i18n import babel_locale, gettext

from ...access import can_act_for_payee
from ...api.routes.invoices import file_response
from ...application import Ledger
from ...domain.errors import DomainError, ValidationFailed
from ...errors import NotFound
from ...invoices import pdf, ubl
from ...invoicing import Invoicing
from ..sessions import current_person, signed_in
from .statements import Pair, pair_of, visible_pairs

FORMATS = {
    "ubl": (ubl.invoice_xml, ubl.MEDIA_TYPE, "xml"),
    "pdf": (pdf.invoice_pdf, pdf.MEDIA_TYPE, "pdf"),
}
MONTHS_OFFERED = 12


def months_before(today: date, count: int) -> list[date]:
    """The first days of this month and the ``count - 1`` before it, newest first."""
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def register(bp: Blueprint, ledger: Ledger) -> None:
    invoicing = Invoicing(ledger)

    @bp.app_context_processor
    def invoice_functions() -> dict[str, Any]:
        return {"invoice_for": invoice_for, "invoice_panel": invoice_panel}

    def invoice_for(claim: dict[str, Any]) -> dict[str, Any] | None:
        """For the claim page: the claim's invoice and whether this person may create it."""
        person = current_person()
        invoice = invoicing.for_claim(person.principal, claim["id"])
        may_issue = can_act_for_payee(person.principal, claim["payee_id"])
        if invoice is None and not (may_issue and claim["status"] in APPROVED):
            return None
        return {"invoice": invoice, "can_issue": invoice is None and may_issue}

    def invoice_panel(pair: Pair | None) -> dict[str, Any] | None:
        """For the statement page: the pair's invoices, and the months the VCSE side may
        invoice."""
        if pair is None:
            return None
        principal = current_person().principal
        invoices = invoicing.between(principal, pair.payee_id, pair.payer_id)
        can_issue = can_act_for_payee(principal, pair.payee_id)
        if not invoices and not can_issue:
            return None
        months = [
            {"value": f"{first:%Y-%m}", "text": format_date(first, "LLLL y", locale=babel_locale())}
            for first in months_before(ledger.today(), MONTHS_OFFERED)
        ]
        return {"invoices": invoices, "can_issue": can_issue, "months": months}

    @bp.route("/claims/<claim_id>/invoice", methods=["POST"])
    @signed_in
    def issue_claim_invoice(claim_id: str) -> Any:
        principal = current_person().principal
        try:
            with ledger.store.unit_of_work() as uow:
                invoice, created = invoicing.issue_for_claim(uow, principal, claim_id)
        except NotFound:
            abort(404)
        except DomainError as error:
            flash(_message(error), "error")
            return redirect(url_for("web.claim", claim_id=claim_id))
        if created:
            flash(
                gettext(
                    "E-invoice %(number)s was created. Download it below.",
                    number=invoice["number"],
                ),
                "success",
            )
        return redirect(url_for("web.claim", claim_id=claim_id, _anchor="e-invoice"))

    @bp.route("/statements/invoice", methods=["POST"])
    @signed_in
    def issue_month_invoice() -> Any:
        principal = current_person().principal
        agreement = request.form.get("agreement", "")
        pair = pair_of(visible_pairs(ledger, principal), agreement, ledger)
        if pair is None or not can_act_for_payee(principal, pair.payee_id):
            abort(404)
        back = url_for("web.statements", agreement=pair.agreement_id, _anchor="e-invoices")
        try:
            with ledger.store.unit_of_work() as uow:
                invoice, created = invoicing.issue_for_month(
                    uow, principal, pair.payer_id, request.form.get("month", "")
                )
        except DomainError as error:
            flash(_message(error), "error")
            return redirect(back)
        if created:
            done = gettext(
                "E-invoice %(number)s was created. Download it below.", number=invoice["number"]
            )
        else:
            done = gettext(
                "E-invoice %(number)s already covers that month. Download it below.",
                number=invoice["number"],
            )
        flash(done, "success")
        return redirect(back)

    @bp.route("/invoices/<invoice_id>/<fmt>")
    @signed_in
    def invoice_download(invoice_id: str, fmt: str) -> Any:
        if fmt not in FORMATS:
            abort(404)
        render, media_type, suffix = FORMATS[fmt]
        try:
            document = invoicing.document(current_person().principal, invoice_id)
        except NotFound:
            abort(404)
        return file_response(render(document), media_type, document, suffix)


def _message(error: DomainError) -> str:
    if isinstance(error, ValidationFailed):
        return " ".join(message for messages in error.errors.values() for message in messages)
    return error.message
