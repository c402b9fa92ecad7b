"""E-invoices: issue one for an approved claim or for a month's approved claims to one payer,
read it, and download it as UBL 2.1 (Peppol BIS Billing 3.0) XML or as a PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.problems import Problem

from ...application import Ledger
from ...invoices import pdf, ubl
from ...invoicing import Invoicing
from ..commands import execute
from ..schemas import ClaimInvoiceIn, InvoiceOut, MonthInvoiceIn
from .common import IDEMPOTENCY_DOC, principal_of

PREFIX = "/api/v1"
ISSUED = {"description": "An invoice already covered this claim (or month): that invoice"}


def _file_doc(media_type: str, what: str) -> dict[str, Any]:
    return {
        "responses": {
            "200": {
                "description": what,
                "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


def with_links(invoice: dict[str, Any]) -> dict[str, Any]:
    base = f"{PREFIX}/invoices/{invoice['id']}"
    return {**invoice, "links": {"self": base, "ubl": f"{base}/ubl", "pdf": f"{base}/pdf"}}


def build_invoices(ledger: Ledger) -> Blueprint:
    blp = Blueprint("invoices", __name__, description="E-invoices from approved claims")
    invoicing = Invoicing(ledger)

    def issue(run: Callable[[Any], tuple[dict[str, Any], bool]]) -> Response:
        principal = principal_of(ledger)

        def command(uow: Any) -> tuple[dict[str, Any], dict[str, str]]:
            invoice, _ = run(uow)
            return with_links(invoice), {"Location": f"invoices/{invoice['id']}"}

        return execute(ledger, principal, 200, InvoiceOut(), command)

    @blp.route("/claims/<claim_id>/invoice")
    class ClaimInvoice(MethodView):
        @blp.arguments(ClaimInvoiceIn)
        @blp.response(200, InvoiceOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict[str, Any], claim_id: str) -> Response:
            """Issue the e-invoice for an approved claim (the VCSE organisation's people).

            Asking again answers the same invoice, never a new number; so does asking for a
            claim a month's invoice already covers."""
            principal = principal_of(ledger)
            return issue(lambda uow: invoicing.issue_for_claim(uow, principal, claim_id))

        @blp.response(200, InvoiceOut)
        def get(self, claim_id: str) -> dict[str, Any]:
            """The e-invoice that covers a claim (404 while there is none)."""
            principal = principal_of(ledger)
            ledger.get_claim(principal, claim_id)  # 404 for a claim you may not see
            invoice = invoicing.for_claim(principal, claim_id)
            if invoice is None:
                raise Problem(404, "not-found", "Not found", "no invoice covers this claim yet")
            return with_links(invoice)

    @blp.route("/invoices")
    class MonthInvoice(MethodView):
        @blp.arguments(MonthInvoiceIn)
        @blp.response(200, InvoiceOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict[str, Any]) -> Response:
            """Issue one e-invoice for all of a month's approved claims (by approval date) of
            your VCSE organisation to one payer, leaving out claims already invoiced.

            Asking again for the same month and payer answers the same invoice."""
            principal = principal_of(ledger)
            return issue(
                lambda uow: invoicing.issue_for_month(
                    uow, principal, data["payer_id"], data["month"]
                )
            )

    @blp.route("/invoices/<invoice_id>")
    class InvoiceResource(MethodView):
        @blp.response(200, InvoiceOut)
        def get(self, invoice_id: str) -> dict[str, Any]:
            """One invoice (the issuing VCSE organisation's people and the payer's approvers
            and finance officers; 404 for anyone else)."""
            return with_links(invoicing.get(principal_of(ledger), invoice_id))

    @blp.route("/invoices/<invoice_id>/ubl")
    class InvoiceUbl(MethodView):
        @blp.doc(**_file_doc(ubl.MEDIA_TYPE, "UBL 2.1 Invoice, Peppol BIS Billing 3.0"))
        def get(self, invoice_id: str) -> Response:
            """The invoice as UBL 2.1 XML following Peppol BIS Billing 3.0 (EN 16931)."""
            document = invoicing.document(principal_of(ledger), invoice_id)
            return file_response(ubl.invoice_xml(document), ubl.MEDIA_TYPE, document, "xml")

    @blp.route("/invoices/<invoice_id>/pdf")
    class InvoicePdf(MethodView):
        @blp.doc(**_file_doc(pdf.MEDIA_TYPE, "The invoice as a PDF"))
        def get(self, invoice_id: str) -> Response:
            """The invoice as a PDF, saying what the UBL says."""
            document = invoicing.document(principal_of(ledger), invoice_id)
            return file_response(pdf.invoice_pdf(document), pdf.MEDIA_TYPE, document, "pdf")

    return blp


def file_response(content: bytes, media_type: str, document: Any, suffix: str) -> Response:
    """An invoice file to save: its number in the name, kept out of shared caches."""
    response = Response(content, content_type=media_type)
    name = f"invoice-{document.event.number}.{suffix}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
