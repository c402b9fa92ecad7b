"""How facts read on the pages: money, dates, countdowns, statuses and error messages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from shared.money import format_pence

from .forms import ACTIVITY_LABELS, field_id

STATUS_TAGS = {
    "submitted": ("Submitted", "govuk-tag--blue"),
    "queried": ("Queried", "govuk-tag--yellow"),
    "approved": ("Approved", "govuk-tag--turquoise"),
    "part_paid": ("Part paid", "govuk-tag--purple"),
    "paid": ("Paid", "govuk-tag--green"),
    "rejected": ("Rejected", "govuk-tag--red"),
    "withdrawn": ("Withdrawn", "govuk-tag--grey"),
}
RATE_BASES = {"hourly": "Hourly", "half_day": "Half day", "day": "Day"}
AGING_LABELS = {
    "not_due": "Not yet due",
    "1-30": "1 to 30 days overdue",
    "31-60": "31 to 60 days overdue",
    "61-90": "61 to 90 days overdue",
    "90+": "More than 90 days overdue",
}


def money(pence: int | None) -> str:
    return "" if pence is None else format_pence(pence)


def long_date(value: date | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {value:%B %Y}"


def days_phrase(days: int) -> str:
    return "1 day" if abs(days) == 1 else f"{abs(days)} days"


def countdown(due: date, today: date) -> str:
    """'due in 5 days', 'due today', '12 days overdue'."""
    days = (due - today).days
    if days > 0:
        return "due tomorrow" if days == 1 else f"due in {days_phrase(days)}"
    if days == 0:
        return "due today"
    return f"{days_phrase(days)} overdue"


def is_overdue(due: date, today: date) -> bool:
    return today > due


def file_size(size_bytes: int) -> str:
    """'820 bytes', '12 KB', '1.4 MB'."""
    if size_bytes < 1000:
        return f"{size_bytes} bytes"
    if size_bytes < 1_000_000:
        return f"{round(size_bytes / 1000)} KB"
    return f"{size_bytes / 1_000_000:.1f} MB"


RECEIPT_KINDS = {"image/jpeg": "JPEG image", "image/png": "PNG image", "application/pdf": "PDF"}


def receipt_kind(media_type: str) -> str:
    return RECEIPT_KINDS.get(media_type, media_type)


def claim_reference(claim_id: str) -> str:
    return claim_id[:8].upper()


def status_tag(status: str) -> dict[str, str]:
    text, classes = STATUS_TAGS.get(status, (status, ""))
    return {"text": text, "classes": classes}


def activity_label(activity: str) -> str:
    return ACTIVITY_LABELS.get(activity, activity)


# ---- errors ----------------------------------------------------------------------------------

_LINE_PATH = re.compile(r"(lines|expenses|allocations)\.(\d+)(?:\.(\w+))?(?:\.\d+)?")
_FIELD_WORDS = {
    "worked_on": "date",
    "hours": "hours",
    "activity": "activity",
    "worker": "who did it",
    "description": "description",
    "category": "category",
    "amount_pence": "amount",
    "claim_id": "claim",
    "receipt": "receipt",
    "receipts": "receipt",
}
_TOP_LEVEL = {
    "agreement_id": "Agreement",
    "lines": "Time",
    "expenses": "Expenses",
    "amount_pence": "Amount",
    "reason": "A reason",
    "question": "Your question",
    "answer": "Your answer",
    "paid_on": "Payment date",
    "reference": "Reference",
    "allocations": "Allocations",
    "payer_id": "Payer",
    "payee_id": "Organisation paid",
    "email": "Email address",
    "password": "Password",
}
_CHOICES = {"activity", "category", "agreement_id", "how"}


def field_label(path: str, row_names: Mapping[str, Sequence[str]] | None = None) -> str:
    match = _LINE_PATH.fullmatch(path)
    if match:
        group, index, name = match.group(1), int(match.group(2)), match.group(3)
        names = (row_names or {}).get(group)
        if names and index < len(names):
            row = names[index]
        else:
            row = {"lines": "Line", "expenses": "Expense", "allocations": "Allocation"}[group]
            row = f"{row} {index + 1}"
        return f"{row} {_FIELD_WORDS.get(name or '', name or '')}".strip()
    return _TOP_LEVEL.get(path, path.replace("_", " ").capitalize())


def error_text(
    path: str, message: str, row_names: Mapping[str, Sequence[str]] | None = None
) -> str:
    """A GOV.UK-style message from the domain's terse one: 'Enter line 1 hours'."""
    if path == "_schema":
        return message[0].upper() + message[1:]
    label = field_label(path, row_names)
    if message == "is required":
        verb = "Select" if path.rsplit(".", 1)[-1] in _CHOICES else "Enter"
        return f"{verb} {label[0].lower() + label[1:]}"
    if message.startswith(("at least", "at most", "a reason", "enter ")):
        return message[0].upper() + message[1:]
    first, _, rest = message.partition(" ")
    if rest and first.lower() == label.rsplit(" ", 1)[-1].lower():
        message = rest  # "hours must be…" after "Line 1 hours"
    return f"{label} {message}"


class FormErrors:
    """Field errors keyed by the domain's dotted paths, shown in the GOV.UK error summary
    (linking to each field) and next to each field."""

    def __init__(self, row_names: Mapping[str, Sequence[str]] | None = None) -> None:
        self.errors: dict[str, list[str]] = {}
        self.row_names = row_names or {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def add_all(self, errors: Mapping[str, Sequence[str]]) -> None:
        for path, messages in errors.items():
            for message in messages:
                self.add(path, message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __contains__(self, path: object) -> bool:
        return path in self.errors

    def message(self, path: str) -> dict[str, str] | None:
        """The `errorMessage` parameter of a GOV.UK macro, or None."""
        messages = self.errors.get(path)
        if not messages:
            return None
        return {"text": error_text(path, messages[0], self.row_names)}

    def summary(self) -> list[dict[str, Any]]:
        items = []
        for path, messages in self.errors.items():
            item: dict[str, Any] = {"text": error_text(path, messages[0], self.row_names)}
            if path != "_schema":
                item["href"] = "#" + field_id(path)
            items.append(item)
        return items
