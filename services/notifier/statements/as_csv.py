"""A statement as CSV: one row per item, then the total rows; UTF-8; money twice, as pounds
with two decimals (for people) and as integer pence (for machines).

``row_type`` tells the rows apart, so a spreadsheet can filter the items from the totals.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from shared.i18n import N_, gettext
from shared.text import displayable

from .model import ActivityStatement, OutstandingStatement, Statement

ACTIVITY_COLUMNS = (
    "row_type",  # opening | line | total | closing | memo
    "date",
    "type",
    "claim_id",
    "reference",
    "description",
    "amount_pounds",
    "amount_pence",
    "balance_pounds",
    "balance_pence",
)
OUTSTANDING_COLUMNS = (
    "row_type",  # item | bucket_total | total | warning
    "label",
    "claim_id",
    "standing",
    "status",
    "receipt",
    "payment_due",
    "days_overdue",
    "bucket",
    "items",
    "open_pounds",
    "open_pence",
    "interest_pounds",
    "interest_pence",
    "compensation_pounds",
    "compensation_pence",
)


# Each column's heading, marked for the catalogue (the Welsh file has Welsh headings).
HEADINGS = {
    column: column
    for column in (
        N_("row_type"),
        N_("date"),
        N_("type"),
        N_("claim_id"),
        N_("reference"),
        N_("description"),
        N_("amount_pounds"),
        N_("amount_pence"),
        N_("balance_pounds"),
        N_("balance_pence"),
        N_("label"),
        N_("standing"),
        N_("status"),
        N_("receipt"),
        N_("payment_due"),
        N_("days_overdue"),
        N_("bucket"),
        N_("items"),
        N_("open_pounds"),
        N_("open_pence"),
        N_("interest_pounds"),
        N_("interest_pence"),
        N_("compensation_pounds"),
        N_("compensation_pence"),
    )
}


def pounds(pence: int) -> str:
    """Pence as pounds with two decimals and no symbol: ``-1234.05``."""
    sign = "-" if pence < 0 else ""
    whole, rest = divmod(abs(pence), 100)
    return f"{sign}{whole}.{rest:02d}"


def _text(value: str) -> str:  # displayable (shared/text.py) is applied to every cell
    """Free text made safe for spreadsheets: a cell starting with =, +, -, @ (or a tab or
    carriage return) would be run as a formula, so it is quoted with a leading apostrophe."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _money(name: str, pence: int) -> dict[str, str | int]:
    return {f"{name}_pounds": pounds(pence), f"{name}_pence": pence}


def _activity_rows(body: ActivityStatement) -> list[dict[str, object]]:
    day_before = body.period_start - timedelta(days=1)
    rows: list[dict[str, object]] = [
        {
            "row_type": "opening",
            "date": body.period_start.isoformat(),
            "description": gettext(
                "Opening balance (owed at the end of %(date)s)", date=day_before.isoformat()
            ),
            **_money("amount", body.opening_pence),
            **_money("balance", body.opening_pence),
        }
    ]
    for line, balance in zip(body.lines, body.running_balances(), strict=True):
        rows.append(
            {
                "row_type": "line",
                **_money("balance", balance),
                "date": line.on.isoformat(),
                "type": line.kind,
                "claim_id": line.claim_id,
                "reference": _text(line.reference),
                "description": _text(line.description),
                **_money("amount", line.amount_pence),
            }
        )
    for kind, label, pence in (
        ("approved", N_("Total approved"), body.approved_pence),
        ("payment", N_("Total paid"), body.paid_pence),
        ("reversal", N_("Total reversed"), body.reversed_pence),
    ):
        rows.append(
            {
                "row_type": "total",
                "type": kind,
                "description": gettext(label),
                **_money("amount", pence),
            }
        )
    rows.append(
        {
            "row_type": "closing",
            "date": body.period_end.isoformat(),
            "description": gettext(
                "Closing balance (owed at the end of %(date)s)", date=body.period_end.isoformat()
            ),
            **_money("amount", body.closing_pence),
            **_money("balance", body.closing_pence),
        }
    )
    rows.append(
        {
            "row_type": "memo",
            "date": body.period_end.isoformat(),
            "description": gettext(
                "Awaiting approval at the end of the period (not in the balance)"
            ),
            **_money("amount", body.closing_awaiting_approval_pence),
        }
    )
    return rows


def _outstanding_rows(body: OutstandingStatement) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for item in body.items:
        rows.append(
            {
                "row_type": "item",
                "claim_id": item.claim_id,
                "standing": item.standing,
                "status": item.status,
                "receipt": item.receipt.isoformat(),
                "payment_due": item.payment_due.isoformat(),
                "days_overdue": item.days_overdue,
                "bucket": item.bucket,
                "items": 1,
                **_money("open", item.open_pence),
                **_money("interest", item.interest_pence),
                **_money("compensation", item.compensation_pence),
            }
        )
    for total in body.buckets:
        rows.append(
            {
                "row_type": "bucket_total",
                "label": gettext("Total %(bucket)s", bucket=total.bucket),
                "bucket": total.bucket,
                "items": total.items,
                **_money("open", total.open_pence),
                **_money("interest", total.interest_pence),
                **_money("compensation", total.compensation_pence),
            }
        )
    awaiting = sum(1 for item in body.items if item.standing == "awaiting approval")
    overdue = sum(1 for item in body.items if item.days_overdue > 0)
    for label, items, pence in (
        (N_("Approved, outstanding"), len(body.items) - awaiting, body.approved_outstanding_pence),
        (N_("Awaiting approval"), awaiting, body.awaiting_approval_pence),
        (N_("Overdue"), overdue, body.overdue_pence),
    ):
        rows.append(
            {"row_type": "total", "label": gettext(label), "items": items, **_money("open", pence)}
        )
    rows.append(
        {
            "row_type": "total",
            "label": gettext("Total open"),
            "items": len(body.items),
            **_money("open", body.open_pence),
            **_money("interest", body.interest_pence),
            **_money("compensation", body.compensation_pence),
        }
    )
    if body.base_rates is not None and body.base_rates.message:
        # The interest rests on base rates nobody has confirmed yet: say so in the file too.
        rows.append({"row_type": "warning", "label": body.base_rates.message})
    return rows


def statement_to_csv(statement: Statement) -> bytes:
    """The statement's rows as UTF-8 CSV (RFC 4180 quoting, CRLF line ends)."""
    body = statement.body
    columns: tuple[str, ...]
    if isinstance(body, ActivityStatement):
        columns, rows = ACTIVITY_COLUMNS, _activity_rows(body)
    else:
        columns, rows = OUTSTANDING_COLUMNS, _outstanding_rows(body)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="raise")
    # The headings in the language of the moment (English: the column names themselves).
    writer.writerow({column: gettext(HEADINGS[column]) for column in columns})
    writer.writerows(
        {name: displayable(v) if isinstance(v, str) else v for name, v in row.items()}
        for row in rows
    )
    return buffer.getvalue().encode("utf-8")
