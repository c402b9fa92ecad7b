"""Equity indicators from the notifier, for a partnership the person belongs to or for their
own organisation within it, over a period: the figures with their benchmarks (met / not met),
three server-side SVG charts each with a data table, and the payers' payment practices."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, render_template, request

from ...application import Ledger
from ..forms import DateParts
from ..notifier_client import (
    NotifierClient,
    NotifierNotFound,
    NotifierRefused,
    NotifierUnavailable,
)
from ..presenters import money
from ..queries import names_of_organisations, partnerships_of
from ..sessions import current_person, requires
from .alerts import sees_notifier_pages
from .statements import DateErrors, read_date

# The figures in the order a reader asks about them, with their names on the page.
FIGURE_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Paying on time",
        [
            ("paid_within_terms_by_number_percent", "Claims paid within terms, by number"),
            ("paid_within_terms_by_value_percent", "Claims paid within terms, by value"),
            ("paid_within_30_days_percent", "Claims paid within 30 days of receipt"),
            ("paid_within_5_days_percent", "Claims paid within 5 days of receipt"),
            ("median_days_to_pay", "Median days to pay"),
            ("p90_days_to_pay", "90th percentile days to pay"),
            ("average_days_to_pay", "Average days to pay"),
            ("unpaid_past_due_claims", "Claims still unpaid past payment due"),
            ("oldest_unpaid_past_due_age_days", "Age of the oldest claim unpaid past due"),
            ("median_days_to_approve", "Median days to approve"),
            ("p90_days_to_approve", "90th percentile days to approve"),
        ],
    ),
    (
        "Money",
        [
            ("claimed_pence", "Claimed"),
            ("approved_pence", "Approved"),
            ("paid_pence", "Paid"),
            ("outstanding_pence", "Outstanding"),
            ("awaiting_approval_pence", "Waiting for approval"),
            ("overdue_pence", "Overdue"),
            ("interest_accrued_pence", "Late payment interest accrued"),
            ("compensation_pence", "Late payment fixed compensation"),
        ],
    ),
    (
        "Hours",
        [
            ("hours_claimed", "Hours claimed"),
            ("hours_approved", "Hours approved"),
            ("hours_paid", "Hours paid"),
            ("overdue_hours", "VCSE hours overdue"),
        ],
    ),
]
SCOPES = ("partnership", "organisation")


def figure_value(value: Any, unit: str) -> str:
    """A figure as it reads: £1,234.00, 95.5%, 12 days, 3.5 hours; 'No data' for None."""
    if value is None:
        return "No data"
    if unit == "pence":
        return money(int(value))
    number = Decimal(str(value)).normalize()
    text = f"{number:,f}"
    if unit == "percent":
        return f"{text}%"
    if unit == "days":
        return "1 day" if number == 1 else f"{text} days"
    if unit == "hours":
        return "1 hour" if number == 1 else f"{text} hours"
    return text


def month_name(month: str) -> str:
    """'2026-10' → 'October 2026'."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        return month
    return f"{first:%B %Y}"


def benchmark_tag(met: bool | None) -> dict[str, str]:
    if met is None:
        return {"text": "No data", "classes": "govuk-tag--grey"}
    if met:
        return {"text": "Met", "classes": "govuk-tag--green"}
    return {"text": "Not met", "classes": "govuk-tag--red"}


def figure_groups(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The notifier's figures in the page's groups; any figure it adds later goes last."""
    groups = []
    shown: set[str] = set()
    for title, members in FIGURE_GROUPS:
        rows = []
        for key, label in members:
            if key in figures:
                rows.append({"label": label, **figures[key]})
                shown.add(key)
        if rows:
            groups.append({"title": title, "figures": rows})
    others = [
        {"label": key.replace("_", " ").capitalize(), **figure}
        for key, figure in sorted(figures.items())
        if key not in shown
    ]
    if others:
        groups.append({"title": "Other figures", "figures": others})
    return groups


def register(bp: Blueprint, ledger: Ledger, notifier: NotifierClient) -> None:
    bp.add_app_template_filter(figure_value, "figure_value")
    bp.add_app_template_filter(benchmark_tag, "benchmark_tag")
    bp.add_app_template_filter(month_name, "month_name")

    @bp.route("/indicators")
    @requires(sees_notifier_pages)
    def indicators() -> Any:
        person = current_person()
        principal = person.principal
        today = ledger.today()
        partnerships = partnerships_of(ledger, principal)
        errors = DateErrors()
        chosen = request.args.get("partnership")
        partnership = partnerships[0] if partnerships else None
        if chosen:
            partnership = next((p for p in partnerships if p["id"] == chosen), None)
            if partnership is None:
                abort(404)
        typed_scope = request.args.get("scope", "")
        scope = typed_scope if typed_scope in SCOPES else SCOPES[0]
        # A GET form (nothing changes), so no CSRF token. Default: the year to today.
        start_form = DateParts(request.args, prefix="start")
        end_form = DateParts(request.args, prefix="end")
        end = read_date(end_form, "end", errors, today, today)
        start = read_date(start_form, "start", errors, end - timedelta(days=365), today)
        if "start" not in errors and "end" not in errors and end < start:
            errors.add("end", "must be the same as or after the start date")

        result: dict[str, Any] | None = None
        unavailable = False
        if partnership is not None and not errors:
            if scope == "partnership":
                endpoint, entity = "partnerships", partnership["id"]
                query: dict[str, Any] = {"start": start, "end": end}
            else:
                kind = principal.organisation_kind
                endpoint = "payers" if kind == "statutory" else "organisations"
                entity = principal.organisation_id
                query = {"start": start, "end": end, "partnership_id": partnership["id"]}
            try:
                result = notifier.indicators(principal.person_id, endpoint, entity, **query)
            except (NotifierNotFound, NotifierRefused, NotifierUnavailable):
                # Not found: the ledger says the person belongs to the partnership, so the
                # notifier has not caught up with the events yet. All: not available now.
                unavailable = True

        payer_names: dict[str, str] = {}
        if result is not None:
            payer_names = names_of_organisations(
                ledger, [r.get("payer_id", "") for r in result.get("payment_practices") or []]
            )
        return (
            render_template(
                "indicators/index.html",
                partnerships=partnerships,
                partnership_items=[
                    {"value": p["id"], "text": p["name"], "selected": p is partnership}
                    for p in partnerships
                ],
                partnership=partnership,
                scope=scope,
                organisation_name=person.organisation_name,
                start_form=start_form,
                end_form=end_form,
                start=start,
                end=end,
                errors=errors,
                result=result,
                groups=figure_groups(result.get("figures") or {}) if result else [],
                series=(result or {}).get("series") or {},
                practices=(result or {}).get("payment_practices") or [],
                payer_names=payer_names,
                unavailable=unavailable,
            ),
            400 if errors else 200,
        )
