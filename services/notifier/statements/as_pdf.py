"""A statement as a PDF a finance officer would file: headed, items in a table that repeats
its header row on every page, totals per aging bucket, the interest note and the benchmarks,
and "Page N of M" on every page.

The standard Helvetica font keeps the file small, fast to make and its text extractable; it
covers Windows-1252, so other characters are shown without their accents (JSON and CSV carry
the full text).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from shared.calendar import LONDON
from shared.money import format_pence
from shared.pdf import BOLD, FONT, HEAD, INK, numbered_canvas
from shared.pdf import escape as _escape
from shared.pdf import table as _table
from shared.text import latin

from ..indicators.benchmarks import BENCHMARKS_LINE
from ..interest import INTEREST_NOTE
from .model import ActivityStatement, OutstandingStatement, Statement

PAGE = landscape(A4)
MARGIN = 15 * mm

_TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, textColor=HEAD)
_NOTE = ParagraphStyle("note", fontName=FONT, fontSize=8, leading=10.5, textColor=INK)
_HEADING = ParagraphStyle("heading", fontName=BOLD, fontSize=10.5, leading=14, textColor=HEAD)
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=9.5, textColor=INK)
_CELL_9 = ParagraphStyle("cell9", fontName=FONT, fontSize=9, leading=11, textColor=INK)
_WARNING = ParagraphStyle(
    "warning",
    fontName=BOLD,
    fontSize=9.5,
    leading=12,
    textColor=INK,
    borderColor=INK,
    borderWidth=1.2,
    borderPadding=(2 * mm, 3 * mm),
    spaceBefore=2 * mm,
    spaceAfter=5 * mm,
    leftIndent=3 * mm,
    rightIndent=3 * mm,
)

KIND_TITLES = {"activity": "Activity statement", "outstanding": "Outstanding statement"}
BUCKET_LABELS = {
    "not_due": "Not yet due",
    "1-30": "1-30 days overdue",
    "31-60": "31-60 days overdue",
    "61-90": "61-90 days overdue",
    "90+": "Over 90 days overdue",
}


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _cell(text: str, style: ParagraphStyle, fits: int) -> str | Paragraph:
    """Plain text when it fits the column (``fits`` characters); a wrapping paragraph when not.
    Paragraphs cost far more to lay out, and most cells are short."""
    return latin(text) if len(text) <= fits else Paragraph(_escape(text), style)


def _numbered_canvas(footer: str, produced_at: datetime) -> type[canvas.Canvas]:
    """ "Page N of M" on each page; the file's creation date is the statement's production time
    (so the same statement always renders to the same bytes)."""
    stamp = produced_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    return numbered_canvas(footer, stamp, PAGE[0], MARGIN)


def _masthead(statement: Statement, summary: list[list[str]]) -> list[Any]:
    """The title, who and when on the left, the summary of amounts on the right."""
    parties = statement.parties
    body = statement.body
    if isinstance(body, ActivityStatement):
        when = ("Period", f"{_long(body.period_start)} to {_long(body.period_end)}")
    else:
        when = ("As at", f"{_long(body.as_at)} (end of day)")
    produced = statement.produced_at.astimezone(LONDON)
    rows = [
        ("Partnership", parties.partnership.name),
        ("VCSE organisation", parties.payee.name),
        ("Payer", parties.payer.name),
        when,
        ("Produced", f"{_long(produced.date())}, {produced:%H:%M} {produced.tzname()}"),
        ("Reference", f"{statement.id} ({statement.trigger.replace('_', ' ')})"),
    ]
    details = Table(
        [(label, _cell(value, _CELL_9, 60)) for label, value in rows],
        colWidths=[34 * mm, 120 * mm],
        hAlign="LEFT",
    )
    details.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, -1), BOLD, 9),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    figures = _table(summary, [62 * mm, 32 * mm], right=[1], bold_last=True)
    side_by_side = Table([[details, figures]], colWidths=[160 * mm, 107 * mm], hAlign="LEFT")
    side_by_side.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
            ]
        )
    )
    title = f"Bridges \u2013 {KIND_TITLES[statement.kind]}"
    return [Paragraph(title, _TITLE), Spacer(1, 3 * mm), side_by_side, Spacer(1, 4 * mm)]


def _activity_story(body: ActivityStatement) -> tuple[list[list[str]], list[Any], list[str]]:
    day_before = body.period_start - timedelta(days=1)
    header = ["Date", "Type", "Claim", "Reference", "Description", "Amount", "Balance"]
    rows: list[list[Any]] = [header]
    rows.append(
        [
            body.period_start.isoformat(),
            "",
            "",
            "",
            f"Opening balance (owed at the end of {_long(day_before)})",
            "",
            format_pence(body.opening_pence),
        ]
    )
    for line, balance in zip(body.lines, body.running_balances(), strict=True):
        sign = "-" if line.signed_pence < 0 else ""
        rows.append(
            [
                line.on.isoformat(),
                line.kind.capitalize(),
                line.claim_id,
                latin(line.reference),
                _cell(line.description, _CELL, 40),
                f"{sign}{format_pence(line.amount_pence)}",
                format_pence(balance),
            ]
        )
    rows.append(
        [
            body.period_end.isoformat(),
            "",
            "",
            "",
            f"Closing balance (owed at the end of {_long(body.period_end)})",
            "",
            format_pence(body.closing_pence),
        ]
    )
    widths = [22 * mm, 20 * mm, 62 * mm, 36 * mm, 73 * mm, 27 * mm, 27 * mm]
    summary = [
        ["Summary", "Amount"],
        ["Opening balance", format_pence(body.opening_pence)],
        ["Approved in the period", format_pence(body.approved_pence)],
        ["Paid in the period", f"-{format_pence(body.paid_pence)}"],
        ["Payments reversed in the period", format_pence(body.reversed_pence)],
        ["Closing balance", format_pence(body.closing_pence)],
    ]
    flowables = [
        Paragraph("Movements", _HEADING),
        _table(rows, widths, right=[5, 6], bold_last=True, bold_rows=[1]),
    ]
    notes = [
        "The balance is what the payer has approved and not yet paid: opening + approved "
        "- paid + reversed = closing. Claims awaiting approval at the end of the period, "
        f"not in the balance: {format_pence(body.closing_awaiting_approval_pence)} (see the "
        "outstanding statement)."
    ]
    return summary, flowables, notes


def _outstanding_story(body: OutstandingStatement) -> tuple[list[list[str]], list[Any], list[str]]:
    header = [
        "Claim",
        "Standing",
        "Receipt",
        "Payment due",
        "Days overdue",
        "Aging",
        "Open amount",
        "Interest",
        "Compensation",
    ]
    rows: list[list[Any]] = [header]
    for item in body.items:
        standing = item.standing if item.status != "queried" else "awaiting approval (queried)"
        rows.append(
            [
                item.claim_id,
                standing,
                item.receipt.isoformat(),
                item.payment_due.isoformat(),
                str(item.days_overdue),
                item.bucket,
                format_pence(item.open_pence),
                format_pence(item.interest_pence),
                format_pence(item.compensation_pence),
            ]
        )
    rows.append(
        [
            "Total",
            f"{len(body.items)} items",
            "",
            "",
            "",
            "",
            format_pence(body.open_pence),
            format_pence(body.interest_pence),
            format_pence(body.compensation_pence),
        ]
    )
    widths = [60 * mm, 40 * mm, 22 * mm, 24 * mm, 22 * mm, 16 * mm, 28 * mm, 26 * mm, 29 * mm]
    buckets: list[list[Any]] = [["Aging", "Items", "Open amount", "Interest", "Compensation"]]
    for total in body.buckets:
        buckets.append(
            [
                BUCKET_LABELS.get(total.bucket, total.bucket),
                str(total.items),
                format_pence(total.open_pence),
                format_pence(total.interest_pence),
                format_pence(total.compensation_pence),
            ]
        )
    buckets.append(
        [
            "Total",
            str(len(body.items)),
            format_pence(body.open_pence),
            format_pence(body.interest_pence),
            format_pence(body.compensation_pence),
        ]
    )
    summary = [
        ["Summary", "Amount"],
        ["Approved, not yet paid", format_pence(body.approved_outstanding_pence)],
        ["Awaiting approval", format_pence(body.awaiting_approval_pence)],
        ["Of which overdue", format_pence(body.overdue_pence)],
        ["Interest accrued", format_pence(body.interest_pence)],
        ["Fixed compensation", format_pence(body.compensation_pence)],
        ["Total open", format_pence(body.open_pence)],
    ]
    empty = [Paragraph("No open items on this date.", _NOTE)] if not body.items else []
    flowables = [
        Paragraph("Open items", _HEADING),
        *empty,
        _table(rows, widths, right=[4, 6, 7, 8], bold_last=True),
        Spacer(1, 4 * mm),
        KeepTogether(
            [
                Paragraph("Totals by aging bucket", _HEADING),
                _table(
                    buckets,
                    [50 * mm, 16 * mm, 30 * mm, 28 * mm, 30 * mm],
                    right=[1, 2, 3, 4],
                    bold_last=True,
                ),
            ]
        ),
    ]
    notes = [
        "Payment due is the date of receipt plus the payment terms plus the days the claim "
        "spent queried (time waiting on the VCSE organisation is not the payer's lateness). "
        "A claim waiting for approval is overdue once past payment due.",
        INTEREST_NOTE,
    ]
    return summary, flowables, notes


def statement_to_pdf(statement: Statement) -> bytes:
    """The statement as a PDF document (A4 landscape)."""
    body = statement.body
    parties = statement.parties
    if isinstance(body, ActivityStatement):
        summary, flowables, notes = _activity_story(body)
    else:
        summary, flowables, notes = _outstanding_story(body)
    story = _masthead(statement, summary)
    if isinstance(body, OutstandingStatement) and body.base_rates and body.base_rates.message:
        story.append(Paragraph(_escape(f"Warning: {body.base_rates.message}"), _WARNING))
    story += flowables
    paragraphs: list[Any] = [Spacer(1, 3 * mm)]
    for note in [*notes, BENCHMARKS_LINE]:
        paragraphs += [Paragraph(_escape(note), _NOTE), Spacer(1, 1.5 * mm)]
    story.append(KeepTogether(paragraphs))
    footer = latin(
        f"Bridges \u2013 {KIND_TITLES[statement.kind]} \u2013 {parties.payee.name} / "
        f"{parties.payer.name} \u2013 {statement.period_end.isoformat()}"
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=latin(f"{KIND_TITLES[statement.kind]} - {parties.payee.name}"),
        author="Bridges",
        subject=latin(f"{parties.partnership.name}: {parties.payee.name} / {parties.payer.name}"),
        creator="Bridges notifier",
        invariant=True,
    )
    document.build(story, canvasmaker=_numbered_canvas(footer, statement.produced_at))
    return buffer.getvalue()
