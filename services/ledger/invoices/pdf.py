"""An invoice as a PDF a person can read and file, in the statements' style (`shared.pdf`):
headed, the two parties, the lines in a table that repeats its header on every page, the
totals, the VAT note, and "Page N of M". It shows what the UBL says, in the language of the
moment (the page's, or the API request's): the headings, labels, dates and amounts are Welsh in
Welsh; the parties' names, the lines' text and the VAT reason are the UBL's own.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from babel.dates import format_date
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from shared import i18n
from shared.calendar import LONDON
from shared.i18n import gettext as _
from shared.pdf import build, fonts, layout, styles, table
from shared.pdf import escape as _escape

from ..domain.invoice import TAX_REASONS, InvoiceDocument, read_month
from ..domain.organisation import Organisation

MEDIA_TYPE = "application/pdf"
PAGE = A4
MARGIN = 15 * mm


def _long(day: date) -> str:
    return i18n.long_date(day)


def _month(day: date) -> str:
    return format_date(day, "LLLL y", locale=i18n.babel_locale())


def _money(pence: int) -> str:
    return i18n.money(pence)


def _party(organisation: Organisation) -> Paragraph:
    rows = [f"<b>{_escape(organisation.name)}</b>"]
    for label, value in (
        (_("Charity number"), organisation.charity_number),
        (_("Company number"), organisation.company_number),
        (_("VAT number"), organisation.vat_number),
        (_("Peppol id"), organisation.peppol_id),
        (_("Email"), organisation.contact_email),
    ):
        if value:
            rows.append(f"{_escape(label)}: {_escape(value)}")
    return Paragraph("<br/>".join(rows), styles().note)


def invoice_pdf(document: InvoiceDocument) -> bytes:
    """The invoice as a PDF; the same invoice always renders to the same bytes."""
    event = document.event
    style = styles()
    bold = fonts().bold
    width = PAGE[0] - 2 * MARGIN
    facts = [
        [_("Invoice number"), event.number],
        [_("Issue date"), _long(event.issued_on)],
    ]
    if document.payable_pence > 0:
        facts.append([_("Payment due"), _long(event.due_on)])
    if event.period is not None:
        _unused, first, _last = read_month(event.period)
        facts.append([_("Claims approved in"), _month(first)])
    if document.period_start is not None and document.period_end is not None:
        facts.append(
            [
                _("Work done"),
                _(
                    "%(start)s to %(end)s",
                    start=_long(document.period_start),
                    end=_long(document.period_end),
                ),
            ]
        )
    facts.append([_("Your reference"), document.buyer_reference])
    details = layout(
        [[label, Paragraph(_escape(value), style.note)] for label, value in facts],
        [34 * mm, width - 34 * mm],
        [("FONT", (0, 0), (0, -1), bold, 8.5), ("VALIGN", (0, 0), (-1, -1), "TOP")],
    )
    parties = layout(
        [
            [_("From (supplier)"), _("To (customer)")],
            [_party(document.issuer), _party(document.payer)],
        ],
        [width / 2, width / 2],
        [("FONT", (0, 0), (-1, 0), bold, 8.5), ("VALIGN", (0, 0), (-1, -1), "TOP")],
    )
    rows: list[list[Any]] = [["#", _("Item"), _("Date"), _("Amount")]]
    for number, line in enumerate(document.lines, start=1):
        text = f"<b>{_escape(line.name)}</b><br/>{_escape(line.note)}"
        rows.append(
            [
                str(number),
                Paragraph(text, style.cell),
                _long(line.on) if line.on else "",
                _money(line.amount_pence),
            ]
        )
    for allowance in document.allowances:
        rows.append(
            [
                "",
                Paragraph(_escape(_("Less: %(reason)s", reason=allowance.reason)), style.cell),
                "",
                _money(-allowance.amount_pence),
            ]
        )
    totals = [
        ["", _("Total without VAT"), "", _money(document.total_pence)],
        ["", _("VAT"), "", _money(0)],
        ["", _("Total"), "", _money(document.total_pence)],
    ]
    if event.paid_pence:
        totals.append(["", _("Already paid"), "", _money(-event.paid_pence)])
    totals.append(["", _("Amount to pay"), "", _money(document.payable_pence)])
    lines = table(
        rows + totals, [10 * mm, width - 72 * mm, 34 * mm, 28 * mm], right=[3], bold_last=True
    )
    _code, reason = TAX_REASONS[document.tax_category]
    vat_note = _(
        "VAT: %(reason)s (EN 16931 category %(category)s). No VAT is charged. This invoice is "
        "also issued as a Peppol BIS Billing 3.0 (UBL 2.1) e-invoice with the same number.",
        reason=reason,
        category=document.tax_category,
    )
    story: list[Any] = [
        Paragraph(_escape(_("Invoice")), style.title),
        Spacer(1, 3 * mm),
        details,
        Spacer(1, 4 * mm),
        parties,
        Spacer(1, 5 * mm),
        Paragraph(_escape(_("Lines")), style.heading),
        lines,
        Spacer(1, 4 * mm),
        Paragraph(_escape(vat_note), style.note),
    ]
    names = {"number": event.number, "issuer": document.issuer.name}
    return build(
        story,
        pagesize=PAGE,
        margin=MARGIN,
        title=_("Invoice %(number)s - %(issuer)s", **names),
        author=document.issuer.name,
        subject=_("Invoice to %(payer)s", payer=document.payer.name),
        creator="Bridges",
        footer=_(
            "Invoice %(number)s - %(issuer)s to %(payer)s", payer=document.payer.name, **names
        ),
        created=datetime.combine(event.issued_on, time(12), LONDON),
    )
