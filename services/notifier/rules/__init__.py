"""The alert rules: pure functions of the read model's values and a day.

Each rule says which alerts hold "as at" a day; it reads no clock and touches no database, so
any day can be evaluated (tests travel in time, operators backfill). `assess_partnership`
runs every rule over one partnership and also names every subject it judged, so the caller can
resolve the alerts of those subjects that no longer hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from services.notifier.model import ClaimTimeline

from .budget import THRESHOLDS_PERCENT, budget_alerts, committed_pence
from .candidates import (
    ALERT_KINDS,
    APPROVAL_DUE_SOON,
    APPROVAL_OVERDUE,
    BUDGET_THRESHOLD,
    EQUITY_BREACH,
    PAYMENT_DUE_SOON,
    PAYMENT_OVERDUE,
    QUERY_UNANSWERED,
    RULE_KINDS,
    STATEMENT_READY,
    AlertCandidate,
    Audience,
    Recipients,
    owed_subject,
    payer_subject,
)
from .claims import QUERY_ANSWER_WORKING_DAYS, claim_alerts, current_reminder, reminder_level
from .equity import (
    MINIMUM_CLAIMS,
    OWED_DAYS,
    TARGET_PERCENT,
    WINDOW_DAYS,
    equity_alerts,
    equity_subjects,
    on_time_rate,
)

if TYPE_CHECKING:
    from services.notifier.store.read_model import AgreementTerms

__all__ = [
    "ALERT_KINDS",
    "APPROVAL_DUE_SOON",
    "APPROVAL_OVERDUE",
    "BUDGET_THRESHOLD",
    "EQUITY_BREACH",
    "MINIMUM_CLAIMS",
    "OWED_DAYS",
    "PAYMENT_DUE_SOON",
    "PAYMENT_OVERDUE",
    "QUERY_ANSWER_WORKING_DAYS",
    "QUERY_UNANSWERED",
    "RULE_KINDS",
    "STATEMENT_READY",
    "TARGET_PERCENT",
    "THRESHOLDS_PERCENT",
    "WINDOW_DAYS",
    "AlertCandidate",
    "Assessment",
    "Audience",
    "Recipients",
    "assess_partnership",
    "budget_alerts",
    "claim_alerts",
    "committed_pence",
    "current_reminder",
    "equity_alerts",
    "equity_subjects",
    "on_time_rate",
    "owed_subject",
    "payer_subject",
    "reminder_level",
]


@dataclass(frozen=True)
class Assessment:
    """The alerts that hold, and every subject judged (held or not)."""

    candidates: tuple[AlertCandidate, ...]
    subjects: frozenset[str]


def assess_partnership(
    partnership_id: str,
    timelines: Iterable[ClaimTimeline],
    agreements: Mapping[str, AgreementTerms],
    as_of: date,
    names: Mapping[str, str] | None = None,
) -> Assessment:
    """Every rule over one partnership's claims and agreements."""
    names = names or {}
    claims = [t for t in timelines if t.partnership_id == partnership_id]
    terms = {k: v for k, v in agreements.items() if v.partnership_id == partnership_id}
    candidates: list[AlertCandidate] = []
    subjects: set[str] = set()
    by_agreement: dict[str, list[ClaimTimeline]] = defaultdict(list)
    payees_of: dict[str, set[str]] = defaultdict(set)
    for timeline in claims:
        subjects.add(timeline.claim_id)
        candidates.extend(claim_alerts(timeline, terms.get(timeline.agreement_id), as_of, names))
        by_agreement[timeline.agreement_id].append(timeline)
        payees_of[timeline.payer_id].add(timeline.payee_id)
    for agreement in terms.values():
        subjects.add(agreement.id)
        committed = committed_pence(by_agreement.get(agreement.id, ()), as_of)
        candidates.extend(budget_alerts(agreement, committed, as_of, names))
        payees_of[agreement.payer_id].add(agreement.payee_id)
    for payer_id, payees in sorted(payees_of.items()):
        subjects |= equity_subjects(partnership_id, payer_id, payees)
        candidates.extend(equity_alerts(partnership_id, payer_id, claims, as_of, names))
    return Assessment(tuple(candidates), frozenset(subjects))
