"""How facts read on the pages: money, dates, countdowns, statuses and error messages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from shared import i18n
from shared.i18n import N_, Message, gettext, ngettext, translate

from .forms import ACTIVITY_LABELS, field_id


class TranslatedLabels(dict[str, str]):
    """Labels marked with N_ that read in the language of the moment when a page gets them."""

    def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
        if key in self:
            return gettext(self[key])
        return default if default is not None else key


STATUS_TAGS = {
    "submitted": (N_("Submitted"), "govuk-tag--blue"),
    "queried": (N_("Queried"), "govuk-tag--yellow"),
    "approved": (N_("Approved"), "govuk-tag--turquoise"),
    "part_paid": (N_("Part paid"), "govuk-tag--purple"),
    "paid": (N_("Paid"), "govuk-tag--green"),
    "rejected": (N_("Rejected"), "govuk-tag--red"),
    "withdrawn": (N_("Withdrawn"), "govuk-tag--grey"),
}
RATE_BASES = TranslatedLabels(
    {"hourly": N_("Hourly"), "half_day": N_("Half day"), "day": N_("Day")}
)
AGING_LABELS = TranslatedLabels(
    {
        "not_due": N_("Not yet due"),
        "1-30": N_("1 to 30 days overdue"),
        "31-60": N_("31 to 60 days overdue"),
        "61-90": N_("61 to 90 days overdue"),
        "90+": N_("More than 90 days overdue"),
    }
)


def money(pence: int | None) -> str:
    return "" if pence is None else i18n.money(pence)


def long_date(value: date | str | None) -> str:
    """'5 March 2026' / '5 Mawrth 2026'."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return i18n.long_date(value)


def days_phrase(days: int) -> str:
    return ngettext("%(num)d day", "%(num)d days", abs(days))


def countdown(due: date, today: date) -> str:
    """'due in 5 days', 'due today', '12 days overdue'."""
    days = (due - today).days
    if days > 0:
        if days == 1:
            return gettext("due tomorrow")
        return ngettext("due in %(num)d day", "due in %(num)d days", days)
    if days == 0:
        return gettext("due today")
    return ngettext("%(num)d day overdue", "%(num)d days overdue", -days)


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
    return {"text": gettext(text), "classes": classes}


def activity_label(activity: str) -> str:
    return gettext(ACTIVITY_LABELS[activity]) if activity in ACTIVITY_LABELS else activity


# ---- errors ----------------------------------------------------------------------------------

_LINE_PATH = re.compile(r"(lines|expenses|allocations)\.(\d+)(?:\.(\w+))?(?:\.\d+)?")
_FIELD_WORDS = {
    "worked_on": N_("date"),
    "hours": N_("hours"),
    "activity": N_("activity"),
    "worker": N_("who did it"),
    "description": N_("description"),
    "category": N_("category"),
    "amount_pence": N_("amount"),
    "claim_id": N_("claim"),
    "receipt": N_("receipt"),
    "receipts": N_("receipt"),
}
_TOP_LEVEL = {
    "agreement_id": N_("Agreement"),
    "lines": N_("Time"),
    "expenses": N_("Expenses"),
    "amount_pence": N_("Amount"),
    "reason": N_("A reason"),
    "question": N_("Your question"),
    "answer": N_("Your answer"),
    "paid_on": N_("Payment date"),
    "reference": N_("Reference"),
    "allocations": N_("Allocations"),
    "payer_id": N_("Payer"),
    "payee_id": N_("Organisation paid"),
    "email": N_("Email address"),
    "password": N_("Password"),
    "person": N_("A language for your emails and statements"),
    "organisation": N_("A language for your organisation's emails and statements"),
}
_ROWS = {"lines": N_("Line %(number)s"), "expenses": N_("Expense %(number)s")}
_ROWS["allocations"] = N_("Allocation %(number)s")
_CHOICES = {"activity", "category", "agreement_id", "how", "person", "organisation"}

# The domain's messages (English, terse) as a page shows them in the language of the moment:
# exact ones, then patterns with a value in them. One not listed reads in English.
_DOMAIN_MESSAGES = {
    m: m
    for m in (
        N_("is required"),
        N_("must be text"),
        N_("must be a whole number"),
        N_("must be a whole number of pence"),
        N_("must be positive"),
        N_("must be a date (YYYY-MM-DD)"),
        N_("must be a list"),
        N_("must be an email address"),
        N_("must not be in the future"),
        N_("hours must be in quarter-hour steps"),
        N_("must be in quarter-hour steps"),
        N_("is listed twice"),
        N_("is listed twice: allocate to each claim once"),
        N_("a reason is required for a partial approval"),
        N_("nothing to change"),
        N_("unknown claim"),
        N_("all claims of one payment must be in one partnership"),
        N_("Enter a correct email address and password"),
        N_("This claim is already being submitted: check your claims"),
        N_("Select whose statement to show"),
        N_("must be an amount in pounds and pence, like 12.40"),
        N_("must be a real date, like 27 3 2026"),
        N_("must be the same as or after the start date"),
        N_("enter an amount for at least one claim"),
    )
}
_DOMAIN_PATTERNS = [
    (re.compile(r"must include (?P<parts>[a-z ]+)"), N_("must include %(parts)s")),
    (re.compile(r"must be at most (?P<n>\d+) characters"), N_("must be at most %(n)s characters")),
    (re.compile(r"must be at most (?P<n>£[\d,.]+)"), N_("must be at most %(n)s")),
    (re.compile(r"must be at least (?P<n>\d+) pence"), N_("must be at least %(n)s pence")),
    (
        re.compile(r"must be between (?P<a>\S+) and (?P<b>\S+)"),
        N_("must be between %(a)s and %(b)s"),
    ),
    (
        re.compile(r"must not exceed the claimed (?P<n>£[\d,.]+)"),
        N_("must not exceed the claimed %(n)s"),
    ),
    (
        re.compile(r"amount exceeds the claim's outstanding (?P<n>£[\d,.]+)"),
        N_("amount exceeds the claim's outstanding %(n)s"),
    ),
    (
        re.compile(r"(?P<who>.+)'s hours on (?P<day>\S+) add up to more than 24"),
        N_("%(who)s's hours on %(day)s add up to more than 24"),
    ),
]


def domain_message(message: str) -> str:
    """A domain message in the language of the moment (English when it has no translation)."""
    if isinstance(message, Message):
        return translate(message)
    if message in _DOMAIN_MESSAGES:
        return gettext(message)
    for pattern, msgid in _DOMAIN_PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return gettext(msgid, **match.groupdict())
    return message


def field_label(path: str, row_names: Mapping[str, Sequence[str]] | None = None) -> str:
    match = _LINE_PATH.fullmatch(path)
    if match:
        group, index, name = match.group(1), int(match.group(2)), match.group(3)
        names = (row_names or {}).get(group)
        if names and index < len(names):
            row = names[index]
        else:
            row = gettext(_ROWS[group], number=index + 1)
        word = _FIELD_WORDS.get(name or "")
        field = gettext(word) if word else (name or "")
        return gettext("%(row)s %(field)s", row=row, field=field).strip()
    if path in _TOP_LEVEL:
        return gettext(_TOP_LEVEL[path])
    return path.replace("_", " ").capitalize()


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def error_text(
    path: str, message: str, row_names: Mapping[str, Sequence[str]] | None = None
) -> str:
    """A GOV.UK-style message from the domain's terse one: 'Enter line 1 hours'."""
    if path == "_schema":
        return _upper_first(domain_message(message))
    label = field_label(path, row_names)
    if message == "is required":
        lowered = label[0].lower() + label[1:]
        if path.rsplit(".", 1)[-1] in _CHOICES:
            return gettext("Select %(field)s", field=lowered)
        return gettext("Enter %(field)s", field=lowered)
    if message.startswith(("at least", "at most", "a reason", "enter ")):
        return _upper_first(domain_message(message))
    first, _, rest = message.partition(" ")
    if rest and first.lower() == label.rsplit(" ", 1)[-1].lower():
        message = rest  # "hours must be…" after "Line 1 hours"
    return gettext("%(field)s %(message)s", field=label, message=domain_message(message))


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
        return {
            "text": error_text(path, messages[0], self.row_names),
            "visuallyHiddenText": gettext("Error"),
        }

    def summary(self) -> list[dict[str, Any]]:
        items = []
        for path, messages in self.errors.items():
            item: dict[str, Any] = {"text": error_text(path, messages[0], self.row_names)}
            if path != "_schema":
                item["href"] = "#" + field_id(path)
            items.append(item)
        return items
