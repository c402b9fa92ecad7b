"""How alerts name things: organisations, money and dates the way a finance officer reads them,
and each alert's title.

A title is made from the alert's kind, its detail and the day it was raised (`alert_title`),
in the language of the moment. The rules store it in English (`english_title`: the record, and
what webhooks and English readers get); an email, a digest or the feed in another language
makes it again from the same facts (`shown_title`), so a Welsh-speaking recipient reads it in
Welsh. An alert whose detail lacks a fact its title needs (one raised before a fact was added,
or a kind whose title is not made here) keeps its stored English title.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from services.notifier.model import ClaimState, ClaimTimeline
from shared import i18n
from shared.i18n import ENGLISH, gettext, ngettext, use_language
from shared.money import format_pence

from .candidates import (
    APPROVAL_DUE_SOON,
    APPROVAL_OVERDUE,
    BUDGET_THRESHOLD,
    EQUITY_BREACH,
    PAYMENT_DUE_SOON,
    PAYMENT_OVERDUE,
    QUERY_UNANSWERED,
)

if TYPE_CHECKING:
    from services.notifier.alerts.records import Alert


def name_of(names: Mapping[str, str], organisation_id: str | None) -> str:
    if organisation_id is None:
        return "—"
    return names.get(organisation_id, organisation_id)


def day(value: date) -> str:
    """``9 Apr 2026`` (``9 Ebr 2026`` in Welsh)."""
    if i18n.language() == ENGLISH:
        return f"{value.day} {value:%b %Y}"
    return i18n.short_date(value)


def days(count: int, unit: str = "day") -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def money(pence: int) -> str:
    return format_pence(pence) if i18n.language() == ENGLISH else i18n.money(pence)


def claim_detail(
    timeline: ClaimTimeline, state: ClaimState, names: Mapping[str, str]
) -> dict[str, Any]:
    """The facts about a claim every claim alert carries (JSON-ready)."""
    return {
        "claim_id": timeline.claim_id,
        "agreement_id": timeline.agreement_id,
        "payer_name": name_of(names, timeline.payer_id),
        "payee_name": name_of(names, timeline.payee_id),
        "status": state.status,
        "submitted_on": timeline.submitted_on.isoformat(),
        "approval_due": state.approval_due.isoformat(),
        "payment_due": state.payment_due.isoformat(),
        "claimed_pence": state.claimed_pence,
        "approved_pence": state.approved_pence,
        "paid_pence": state.paid_pence,
        "open_pence": state.open_pence,
        "days_overdue": state.days_overdue,
        "queried_days": state.queried_days,
    }


def _on(detail: Mapping[str, Any], key: str) -> str:
    return day(date.fromisoformat(str(detail[key])))


def alert_title(kind: str, detail: Mapping[str, Any], raised_on: date) -> str | None:
    """The title of an alert of `kind` with `detail`, raised on `raised_on`, in the language
    of the moment; None for a kind whose title is not made from its detail."""
    if kind == APPROVAL_OVERDUE:
        title = ngettext(
            "Approval overdue: %(payee)s — %(amount)s, %(num)d working day late",
            "Approval overdue: %(payee)s — %(amount)s, %(num)d working days late",
            int(detail["working_days_late"]),
            payee=detail["payee_name"],
            amount=money(int(detail["claimed_pence"])),
        )
        if detail["status"] == "queried":
            title = gettext("%(title)s (queried)", title=title)
        return title
    if kind == APPROVAL_DUE_SOON:
        return gettext(
            "Approval due soon: %(payee)s — %(amount)s, due %(date)s",
            payee=detail["payee_name"],
            amount=money(int(detail["claimed_pence"])),
            date=_on(detail, "approval_due"),
        )
    if kind in (PAYMENT_DUE_SOON, PAYMENT_OVERDUE):
        # The words follow the claim, not the reminder's kind: a schedule with no reminder
        # after the due day still says "overdue" once it is.
        facts = {"payee": detail["payee_name"], "amount": money(int(detail["open_pence"]))}
        late = int(detail["days_overdue"])
        if late > 0:
            return ngettext(
                "Payment overdue: %(payee)s — %(amount)s, %(num)d day late",
                "Payment overdue: %(payee)s — %(amount)s, %(num)d days late",
                late,
                **facts,
            )
        if raised_on.isoformat() == detail["payment_due"]:
            return gettext("Payment due today: %(payee)s — %(amount)s", **facts)
        return gettext(
            "Payment due soon: %(payee)s — %(amount)s, due %(date)s",
            date=_on(detail, "payment_due"),
            **facts,
        )
    if kind == QUERY_UNANSWERED:
        return ngettext(
            "Query unanswered: %(payer)s asked about a claim of %(amount)s on %(date)s — "
            "open %(num)d working day",
            "Query unanswered: %(payer)s asked about a claim of %(amount)s on %(date)s — "
            "open %(num)d working days",
            int(detail["working_days_open"]),
            payer=detail["payer_name"],
            amount=money(int(detail["claimed_pence"])),
            date=_on(detail, "queried_on"),
        )
    if kind == BUDGET_THRESHOLD:
        return gettext(
            "Budget %(percent)s%% reached: %(payer)s and %(payee)s — "
            "%(committed)s of %(budget)s committed",
            percent=detail["threshold_percent"],
            payer=detail["payer_name"],
            payee=detail["payee_name"],
            committed=money(int(detail["committed_pence"])),
            budget=money(int(detail["budget_pence"])),
        )
    if kind == EQUITY_BREACH and detail.get("breach") == "on_time_rate":
        start = date.fromisoformat(str(detail["window_start"]))
        end = date.fromisoformat(str(detail["window_end"]))
        return gettext(
            "Equity breach: %(payer)s paid %(percent)s%% of claims on time in the last "
            "%(days)s days (target %(target)s%%)",
            payer=detail["payer_name"],
            percent=detail["on_time_percent"],
            days=(end - start).days + 1,
            target=detail["target_percent"],
        )
    if kind == EQUITY_BREACH and detail.get("breach") == "owed_over_60_days":
        return ngettext(
            "Equity breach: %(payee)s owed %(amount)s by %(payer)s for more than %(limit)s "
            "days (oldest %(num)d day late, due %(date)s)",
            "Equity breach: %(payee)s owed %(amount)s by %(payer)s for more than %(limit)s "
            "days (oldest %(num)d days late, due %(date)s)",
            int(detail["oldest_days_overdue"]),
            payee=detail["payee_name"],
            amount=money(int(detail["owed_pence"])),
            payer=detail["payer_name"],
            limit=detail["owed_days"],
            date=_on(detail, "oldest_payment_due"),
        )
    return None


def english_title(kind: str, detail: Mapping[str, Any], raised_on: date) -> str:
    """The title a rule stores: `alert_title` in English."""
    with use_language(ENGLISH):
        title = alert_title(kind, detail, raised_on)
    if title is None:
        raise ValueError(f"no title is made for {kind} alerts")
    return title


def shown_title(alert: Alert) -> tuple[str, str]:
    """The alert's title for a reader in the language of the moment, and the language it is
    in (the stored English one when it cannot be made again from the detail)."""
    if i18n.language() != ENGLISH:
        try:
            title = alert_title(alert.kind, alert.detail, alert.raised_on)
        except (KeyError, TypeError, ValueError):
            title = None
        if title is not None:
            return title, i18n.language()
    return alert.title, ENGLISH
