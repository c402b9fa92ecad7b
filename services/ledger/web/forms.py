"""The web forms (Flask-WTF). They carry what people type; the domain decides what is valid,
so every rule lives in one place and the forms only turn text into values (dates, pence).

Field names follow WTForms' nesting (`lines-0-hours`), and `field_id` maps the domain's
dotted error paths (`lines.0.hours`) onto them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    StringField,
    TextAreaField,
)

from shared.events.types import ACTIVITIES, EXPENSE_CATEGORIES
from shared.i18n import N_

MAX_FORM_ROWS = 50

ACTIVITY_LABELS = {
    "meeting": N_("Meeting"),
    "co_design": N_("Co-design"),
    "peer_learning": N_("Peer learning"),
    "buddy_scheme": N_("Buddy scheme"),
    "training": N_("Training"),
    "travel": N_("Travel"),
    "preparation": N_("Preparation"),
    "other": N_("Other"),
}


def _label(value: str) -> str:
    return ACTIVITY_LABELS.get(value) or value.replace("_", " ").capitalize()


# Options of the selects (rendered by the GOV.UK macros; the domain checks the value).
ACTIVITY_CHOICES = [("", N_("Choose an activity")), *((a, _label(a)) for a in ACTIVITIES)]
CATEGORY_CHOICES = [("", N_("Choose a category")), *((c, _label(c)) for c in EXPENSE_CATEGORIES)]


class DateParts(Form):
    """The GOV.UK date input: day, month and year boxes."""

    day = StringField("Day")
    month = StringField("Month")
    year = StringField("Year")


class SignInForm(FlaskForm):
    email = StringField("Email address")
    password = PasswordField("Password")
    next = HiddenField()


class ClaimLineForm(Form):
    worked_on = FormField(DateParts)
    hours = StringField("Hours")
    activity = StringField("Activity")
    worker = StringField("Who did it")
    description = StringField("What it was")


class ExpenseForm(Form):
    category = StringField("Category")
    amount = StringField("Amount")
    description = StringField("What it was for")
    # Receipts already uploaded for this row (their ids, space-separated): a file input is
    # empty again on every page, so the ids carry the files from page to page.
    receipt_ids = HiddenField()


class ClaimForm(FlaskForm):
    agreement_id = StringField("Agreement")
    lines = FieldList(FormField(ClaimLineForm), min_entries=1, max_entries=MAX_FORM_ROWS)
    expenses = FieldList(FormField(ExpenseForm), min_entries=1, max_entries=MAX_FORM_ROWS)


class VersionedForm(FlaskForm):
    """A claim command: carries the claim's version (the If-Match of the forms)."""

    version = HiddenField()


class AnswerForm(VersionedForm):
    answer = TextAreaField("Your answer")


class WithdrawForm(VersionedForm):
    pass


class QueryForm(VersionedForm):
    question = TextAreaField("Your question")


class RejectForm(VersionedForm):
    reason = TextAreaField("Reason for rejecting")


class ApproveForm(VersionedForm):
    how = StringField("How much do you approve?")  # radios: "full" or "part"
    amount = StringField("Amount to approve")
    reason = TextAreaField("Reason for approving less")


class AllocationForm(Form):
    claim_id = HiddenField()
    amount = StringField("Amount")


class PaymentForm(FlaskForm):
    payee_id = HiddenField()
    paid_on = FormField(DateParts)
    reference = StringField("Remittance reference")
    allocations = FieldList(FormField(AllocationForm), max_entries=500)


class ReverseForm(FlaskForm):
    reason = TextAreaField("Reason for reversing")


class SignOutForm(FlaskForm):
    pass


# ---- turning text into values -------------------------------------------------------------

_POUNDS = re.compile(r"\d+(\.\d{1,2})?")


def parse_pounds(text: str | None) -> int | None:
    """'£1,234.5' → 123450 pence; None for blank; ValueError when not an amount."""
    cleaned = (text or "").strip().replace(",", "").removeprefix("£").strip()
    if not cleaned:
        return None
    if not _POUNDS.fullmatch(cleaned):
        raise ValueError("must be an amount in pounds and pence, like 12.40")
    try:
        return int(Decimal(cleaned) * 100)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already checked it
        raise ValueError("must be an amount in pounds and pence, like 12.40") from exc


def pounds_text(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def parse_date_parts(parts: DateParts) -> date | None:
    """The date typed into day/month/year, None when all blank; ValueError otherwise."""
    raw = [(parts[name].data or "").strip() for name in ("day", "month", "year")]
    if not any(raw):
        return None
    if not all(raw):
        missing = [n for n, v in zip(("a day", "a month", "a year"), raw, strict=True) if not v]
        raise ValueError("must include " + " and ".join(missing))
    if not all(v.isdigit() for v in raw) or len(raw[2]) != 4:
        raise ValueError("must be a real date, like 27 3 2026")
    try:
        return date(int(raw[2]), int(raw[1]), int(raw[0]))
    except ValueError as exc:
        raise ValueError("must be a real date, like 27 3 2026") from exc


def fill_date_parts(parts: DateParts, value: date) -> None:
    parts["day"].data = str(value.day)
    parts["month"].data = str(value.month)
    parts["year"].data = str(value.year)


def is_blank(form: Form) -> bool:
    """True when nothing was typed into a row (blank rows are left out)."""
    for field in form:
        if isinstance(field, FormField):
            if not is_blank(field.form):
                return False
        elif field.type != "HiddenField" and (field.data or "").strip():
            return False
    return True


# ---- domain error paths → form field ids ---------------------------------------------------

_SPECIAL_IDS = {
    "lines": "lines-0-worked_on-day",
    "expenses": "expenses-0-category",
    "allocations": "allocations-0-amount",
    "amount_pence": "amount",
    "paid_on": "paid_on-day",
    "as_at": "as_at-day",
}


def field_id(path: str) -> str:
    """The id of the input that an error path such as `lines.0.hours` belongs to."""
    if path in _SPECIAL_IDS:
        return _SPECIAL_IDS[path]
    parts = path.split(".")
    if parts[-1] == "worked_on":
        parts.append("day")
    elif parts[0] == "expenses" and "receipts" in parts:
        parts = [*parts[:2], "receipt"]
    elif parts[-1] == "amount_pence" or (parts[0] == "allocations" and parts[-1] == "claim_id"):
        parts[-1] = "amount"
    return "-".join(parts)
