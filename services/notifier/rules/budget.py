"""An agreement's budget: approved + pending claims reaching 80% and then 100% of it.

Committed = the approved amount of approved, part-paid and paid claims plus the claimed amount
of claims still waiting for a decision (submitted or queried). Levels "80" and "100"; only the
highest threshold reached holds (a claim that jumps from 50% to 105% raises "100" alone), and
a rejection or withdrawal that takes the total back under a threshold resolves its alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING

from services.notifier.model import APPROVED, UNDECIDED, ClaimTimeline

from .candidates import BUDGET_THRESHOLD, PAYER_STAFF, VCSE_STAFF, AlertCandidate, Recipients
from .wording import english_title, name_of

if TYPE_CHECKING:
    from services.notifier.store.read_model import AgreementTerms

THRESHOLDS_PERCENT = (80, 100)


def committed_pence(timelines: Iterable[ClaimTimeline], as_of: date) -> int:
    """Approved plus pending pence of an agreement's claims at the end of `as_of`."""
    total = 0
    for timeline in timelines:
        state = timeline.state_as_at(as_of)
        if state is None:
            continue
        if state.status in UNDECIDED:
            total += state.claimed_pence
        elif state.status in APPROVED:
            total += state.approved_pence
    return total


def budget_alerts(
    terms: AgreementTerms,
    committed: int,
    as_of: date,
    names: Mapping[str, str] | None = None,
) -> list[AlertCandidate]:
    """The highest budget threshold `committed` has reached, if any."""
    budget = terms.budget_pence
    if budget is None or budget <= 0:
        return []
    reached = [t for t in THRESHOLDS_PERCENT if committed * 100 >= budget * t]
    if not reached:
        return []
    threshold = max(reached)
    names = names or {}
    payer = name_of(names, terms.payer_id)
    payee = name_of(names, terms.payee_id)
    detail = {
        "agreement_id": terms.id,
        "payer_name": payer,
        "payee_name": payee,
        "budget_pence": budget,
        "committed_pence": committed,
        "remaining_pence": budget - committed,
        "threshold_percent": threshold,
        "as_of": as_of.isoformat(),
    }
    title = english_title(BUDGET_THRESHOLD, detail, as_of)
    return [
        AlertCandidate(
            subject_id=terms.id,
            kind=BUDGET_THRESHOLD,
            level=str(threshold),
            partnership_id=terms.partnership_id,
            payer_id=terms.payer_id,
            payee_id=terms.payee_id,
            claim_id=None,
            agreement_id=terms.id,
            title=title,
            detail=detail,
            audience=(
                Recipients(terms.payer_id, PAYER_STAFF),
                Recipients(terms.payee_id, VCSE_STAFF),
            ),
        )
    ]
