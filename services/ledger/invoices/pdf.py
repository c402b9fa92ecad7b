"""An invoice as a PDF a person can read and file, in the statements' style (services/notifier/
statements/as_pdf.py): headed, the two parties, the lines in a table that repeats its header on
every page, the totals, the VAT note, and "Page N of M". It shows what the UBL says.

Characters outside Windows-1252 lose their accents in the standard fonts (`shared.pdf`); the UBL
carries the full text.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shared.calendar import LONDON
from shared.money import format_pence
from shared.pdf import BOLD, FONT, HEAD, INK, numbered_canvas, table
from shared.pdf import escape as _escape
from shared.text import latin

from ..domain.invoice import TAX_REASONS, InvoiceDocument, read_month
from ..domain.organisation import Organisation

MEDIA_TYPE = "application/pdf"
PAGE = A4
MARGIN = 15 * mm
_TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, textColor=HEAD)
_HEADING = ParagraphStyle("heading", fontName=BOLD, fontSize=10.5, leading=14, textColor=HEAD)
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=9.5, textColor=INK)
_NOTE = ParagraphStyle("note", fontName=FONT, fontSize=8, leading=10.5, textColor=INK)


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _party(organisation: Organisation) -> Paragraph:
    rows = [f"<b>{_escape(organisation.name)}</b>"]
    for label, value in (
        ("Charity number", organisation.charity_number),
        ("Company number", organisation.company_number),
        ("VAT number", organisation.vat_number),
        ("Peppol id", organisation.peppol_id),
        ("Email", organisation.contact_email),
    ):
        if value:
            rows.append(f"{label}: {_escape(value)}")
    return Paragraph("<br/>".join(rows), _NOTE)


def invoice_pdf(document: InvoiceDocument) -> bytes:
    """The invoice as a PDF; the same invoice always renders to the same bytes."""
    event = document.event
    issued = datetime.combine(event.issued_on, time(12), LONDON)
    stamp = issued.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=latin(f"Invoice {event.number} - {document.issuer.name}"),
        author=latin(document.issuer.name),
        subject=latin(f"Invoice to {document.payer.name}"),
        creator="Bridges",
        invariant=True,
    )
    width = PAGE[0] - 2 * MARGIN
    facts = [
        ["Invoice number", event.number],
        ["Issue date", _long(event.issued_on)],
    ]
    if document.payable_pence > 0:
        facts.append(["Payment due", _long(event.due_on)])
    if event.period is not None:
        _, first, _ = read_month(event.period)
        facts.append(["Claims approved in", f"{first:%B %Y}"])
    if document.period_start is not None and document.period_end is not None:
        facts.append(
            ["Work done", f"{_long(document.period_start)} to {_long(document.period_end)}"]
        )
    facts.append(["Your reference", document.buyer_reference])
    details = Table(
        [[label, Paragraph(_escape(value), _NOTE)] for label, value in facts],
        colWidths=[34 * mm, width - 34 * mm],
        hAlign="LEFT",
    )
    details.setStyle(
        TableStyle([("FONT", (0, 0), (0, -1), BOLD, 8.5), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    parties = Table(
        [["From (supplier)", "To (customer)"], [_party(document.issuer), _party(document.payer)]],
        colWidths=[width / 2, width / 2],
        hAlign="LEFT",
    )
    parties.setStyle(
        TableStyle([("FONT", (0, 0), (-1, 0), BOLD, 8.5), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    rows: list[list[Any]] = [["#", "Item", "Date", "Amount"]]
    for number, line in enumerate(document.lines, start=1):
        text = f"<b>{_escape(line.name)}</b><br/>{_escape(line.note)}"
        rows.append(
            [
                str(number),
                Paragraph(text, _CELL),
                _long(line.on) if line.on else "",
                format_pence(line.amount_pence),
            ]
        )
    for allowance in document.allowances:
        rows.append(
            [
                "",
                Paragraph(_escape(f"Less: {allowance.reason}"), _CELL),
                "",
                format_pence(-allowance.amount_pence),
            ]
        )
    totals = [
        ["", "Total without VAT", "", format_pence(document.total_pence)],
        ["", "VAT", "", format_pence(0)],
        ["", "Total", "", format_pence(document.total_pence)],
    ]
    if event.paid_pence:
        totals.append(["", "Already paid", "", format_pence(-event.paid_pence)])
    totals.append(["", "Amount to pay", "", format_pence(document.payable_pence)])
    lines = table(
        rows + totals, [10 * mm, width - 72 * mm, 34 * mm, 28 * mm], right=[3], bold_last=True
    )
    _, reason = TAX_REASONS[document.tax_category]
    story: list[Any] = [
        Paragraph("Invoice", _TITLE),
        Spacer(1, 3 * mm),
        details,
        Spacer(1, 4 * mm),
        parties,
        Spacer(1, 5 * mm),
        Paragraph("Lines", _HEADING),
        lines,
        Spacer(1, 4 * mm),
        Paragraph(
            _escape(
                f"VAT: {reason} (EN 16931 category {document.tax_category}). No VAT is charged. "
                "This invoice is also issued as a Peppol BIS Billing 3.0 (UBL 2.1) e-invoice "
                "with the same number."
            ),
            _NOTE,
        ),
    ]
    footer = latin(f"Invoice {event.number} - {document.issuer.name} to {document.payer.name}")
    doc.build(story, canvasmaker=numbered_canvas(footer, stamp, PAGE[0], MARGIN))
    return buffer.getvalue()
