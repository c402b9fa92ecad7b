"""A statement as a PDF a finance officer would file: headed, items in a table that repeats
its header row on every page, totals per aging bucket, the interest note and the benchmarks,
and "Page N of M" on every page.

The document set-up, font (embedded, with every Welsh letter) and styles are `shared.pdf`'s,
shared with the e-invoices' PDF.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from shared import i18n
from shared.calendar import LONDON
from shared.i18n import N_
from shared.i18n import gettext as _
from shared.pdf import INK, build, fonts, layout, shown, styles
from shared.pdf import escape as _escape
from shared.pdf import table as _table

from ..indicators.benchmarks import benchmarks_line
from ..interest import interest_note
from .model import ActivityStatement, OutstandingStatement, Statement

PAGE = landscape(A4)
MARGIN = 15 * mm


def _warning_style() -> ParagraphStyle:
    return ParagraphStyle(
        "warning",
        fontName=fonts().bold,
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


KIND_TITLES = {"activity": N_("Activity statement"), "outstanding": N_("Outstanding statement")}
BUCKET_LABELS = {
    "not_due": N_("Not yet due"),
    "1-30": N_("1-30 days overdue"),
    "31-60": N_("31-60 days overdue"),
    "61-90": N_("61-90 days overdue"),
    "90+": N_("Over 90 days overdue"),
}


# Words the rows take from the statement's values, marked for the catalogue.
VALUE_WORDS = (
    N_("Approved"),
    N_("Payment"),
    N_("Reversal"),
    N_("approved"),
    N_("awaiting approval"),
    N_("awaiting approval (queried)"),
)


def _long(day: date) -> str:
    return i18n.long_date(day)


def _cell(text: str, style: ParagraphStyle, fits: int) -> str | Paragraph:
    """Plain text when it fits the column (``fits`` characters); a wrapping paragraph when not.
    Paragraphs cost far more to lay out, and most cells are short."""
    return shown(text) if len(text) <= fits else Paragraph(_escape(text), style)


def _masthead(statement: Statement, summary: list[list[str]]) -> list[Any]:
    """The title, who and when on the left, the summary of amounts on the right."""
    parties = statement.parties
    body = statement.body
    if isinstance(body, ActivityStatement):
        when = (
            _("Period"),
            _("%(start)s to %(end)s", start=_long(body.period_start), end=_long(body.period_end)),
        )
    else:
        when = (_("As at"), _("%(date)s (end of day)", date=_long(body.as_at)))
    produced = statement.produced_at.astimezone(LONDON)
    rows = [
        (_("Partnership"), parties.partnership.name),
        (_("VCSE organisation"), parties.payee.name),
        (_("Payer"), parties.payer.name),
        when,
        (_("Produced"), f"{_long(produced.date())}, {produced:%H:%M} {produced.tzname()}"),
        (_("Reference"), f"{statement.id} ({statement.trigger.replace('_', ' ')})"),
    ]
    details = layout(
        [(label, _cell(value, styles().cell9, 60)) for label, value in rows],
        [34 * mm, 120 * mm],
        [
            ("FONT", (0, 0), (0, -1), fonts().bold, 9),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ],
    )
    figures = _table(summary, [62 * mm, 32 * mm], right=[1], bold_last=True)
    side_by_side = layout(
        [[details, figures]],
        [160 * mm, 107 * mm],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("ALIGN", (1, 0), (1, 0), "RIGHT"),
        ],
    )
    title = f"Bridges \u2013 {_(KIND_TITLES[statement.kind])}"
    return [
        Paragraph(_escape(title), styles().title),
        Spacer(1, 3 * mm),
        side_by_side,
        Spacer(1, 4 * mm),
    ]


def _activity_story(body: ActivityStatement) -> tuple[list[list[str]], list[Any], list[str]]:
    day_before = body.period_start - timedelta(days=1)
    header = [
        _(h) for h in ("Date", "Type", "Claim", "Reference", "Description", "Amount", "Balance")
    ]
    rows: list[list[Any]] = [header]
    rows.append(
        [
            body.period_start.isoformat(),
            "",
            "",
            "",
            _("Opening balance (owed at the end of %(date)s)", date=_long(day_before)),
            "",
            i18n.money(body.opening_pence),
        ]
    )
    for line, balance in zip(body.lines, body.running_balances(), strict=True):
        sign = "-" if line.signed_pence < 0 else ""
        rows.append(
            [
                line.on.isoformat(),
                _(line.kind.capitalize()),
                line.claim_id,
                shown(line.reference),
                _cell(line.description, styles().cell, 40),
                f"{sign}{i18n.money(line.amount_pence)}",
                i18n.money(balance),
            ]
        )
    rows.append(
        [
            body.period_end.isoformat(),
            "",
            "",
            "",
            _("Closing balance (owed at the end of %(date)s)", date=_long(body.period_end)),
            "",
            i18n.money(body.closing_pence),
        ]
    )
    widths = [22 * mm, 20 * mm, 62 * mm, 36 * mm, 73 * mm, 27 * mm, 27 * mm]
    summary = [
        [_("Summary"), _("Amount")],
        [_("Opening balance"), i18n.money(body.opening_pence)],
        [_("Approved in the period"), i18n.money(body.approved_pence)],
        [_("Paid in the period"), f"-{i18n.money(body.paid_pence)}"],
        [_("Payments reversed in the period"), i18n.money(body.reversed_pence)],
        [_("Closing balance"), i18n.money(body.closing_pence)],
    ]
    flowables = [
        Paragraph(_escape(_("Movements")), styles().heading),
        _table(rows, widths, right=[5, 6], bold_last=True, bold_rows=[1]),
    ]
    notes = [
        _(
            "The balance is what the payer has approved and not yet paid: opening + approved "
            "- paid + reversed = closing. Claims awaiting approval at the end of the period, "
            "not in the balance: %(amount)s (see the outstanding statement).",
            amount=i18n.money(body.closing_awaiting_approval_pence),
        )
    ]
    return summary, flowables, notes


def _outstanding_story(body: OutstandingStatement) -> tuple[list[list[str]], list[Any], list[str]]:
    header = [
        _("Claim"),
        _("Standing"),
        _("Receipt"),
        _("Payment due"),
        _("Days overdue"),
        _("Aging"),
        _("Open amount"),
        _("Interest"),
        _("Compensation"),
    ]
    rows: list[list[Any]] = [header]
    for item in body.items:
        standing = item.standing if item.status != "queried" else "awaiting approval (queried)"
        standing = _(standing)
        rows.append(
            [
                item.claim_id,
                standing,
                item.receipt.isoformat(),
                item.payment_due.isoformat(),
                str(item.days_overdue),
                item.bucket,
                i18n.money(item.open_pence),
                i18n.money(item.interest_pence),
                i18n.money(item.compensation_pence),
            ]
        )
    rows.append(
        [
            _("Total"),
            _("%(count)s items", count=len(body.items)),
            "",
            "",
            "",
            "",
            i18n.money(body.open_pence),
            i18n.money(body.interest_pence),
            i18n.money(body.compensation_pence),
        ]
    )
    widths = [60 * mm, 40 * mm, 22 * mm, 24 * mm, 22 * mm, 16 * mm, 28 * mm, 26 * mm, 29 * mm]
    buckets: list[list[Any]] = [
        [_(h) for h in ("Aging", "Items", "Open amount", "Interest", "Compensation")]
    ]
    for total in body.buckets:
        buckets.append(
            [
                _(BUCKET_LABELS[total.bucket]) if total.bucket in BUCKET_LABELS else total.bucket,
                str(total.items),
                i18n.money(total.open_pence),
                i18n.money(total.interest_pence),
                i18n.money(total.compensation_pence),
            ]
        )
    buckets.append(
        [
            _("Total"),
            str(len(body.items)),
            i18n.money(body.open_pence),
            i18n.money(body.interest_pence),
            i18n.money(body.compensation_pence),
        ]
    )
    summary = [
        [_("Summary"), _("Amount")],
        [_("Approved, not yet paid"), i18n.money(body.approved_outstanding_pence)],
        [_("Awaiting approval"), i18n.money(body.awaiting_approval_pence)],
        [_("Of which overdue"), i18n.money(body.overdue_pence)],
        [_("Interest accrued"), i18n.money(body.interest_pence)],
        [_("Fixed compensation"), i18n.money(body.compensation_pence)],
        [_("Total open"), i18n.money(body.open_pence)],
    ]
    empty = (
        [Paragraph(_escape(_("No open items on this date.")), styles().note)]
        if not body.items
        else []
    )
    flowables = [
        Paragraph(_escape(_("Open items")), styles().heading),
        *empty,
        _table(rows, widths, right=[4, 6, 7, 8], bold_last=True),
        Spacer(1, 4 * mm),
        KeepTogether(
            [
                Paragraph(_escape(_("Totals by aging bucket")), styles().heading),
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
        _(
            "Payment due is the date of receipt plus the payment terms plus the days the claim "
            "spent queried (time waiting on the VCSE organisation is not the payer's lateness). "
            "A claim waiting for approval is overdue once past payment due."
        ),
        interest_note(),
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
        warning = _("Warning: %(message)s", message=body.base_rates.message)
        story.append(Paragraph(_escape(warning), _warning_style()))
    story += flowables
    paragraphs: list[Any] = [Spacer(1, 3 * mm)]
    for note in [*notes, benchmarks_line()]:
        paragraphs += [Paragraph(_escape(note), styles().note), Spacer(1, 1.5 * mm)]
    story.append(KeepTogether(paragraphs))
    kind = _(KIND_TITLES[statement.kind])
    return build(
        story,
        pagesize=PAGE,
        margin=MARGIN,
        title=f"{kind} - {parties.payee.name}",
        author="Bridges",
        subject=f"{parties.partnership.name}: {parties.payee.name} / {parties.payer.name}",
        creator="Bridges notifier",
        footer=(
            f"Bridges \u2013 {kind} \u2013 {parties.payee.name} / "
            f"{parties.payer.name} \u2013 {statement.period_end.isoformat()}"
        ),
        created=statement.produced_at,
    )
