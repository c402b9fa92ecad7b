"""How alerts name things: organisations, money and dates the way a finance officer reads them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.notifier.model import ClaimState, ClaimTimeline
from shared.money import format_pence


def name_of(names: Mapping[str, str], organisation_id: str | None) -> str:
    if organisation_id is None:
        return "—"
    return names.get(organisation_id, organisation_id)


def day(value: date) -> str:
    """``9 Apr 2026``."""
    return f"{value.day} {value:%b %Y}"


def days(count: int, unit: str = "day") -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def money(pence: int) -> str:
    return format_pence(pence)


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
