"""Equity breaches: a payer that pays late too often, and VCSE organisations owed for too long.

- On-time rate: of a payer's claims in one partnership whose payment due falls in the 90 days
  ending on `as_of` (as_of − 89 … as_of), the share paid in full on or before payment due.
  Rejected and withdrawn claims, and claims approved at £0, are not judged; claims still
  waiting for approval or payment are judged late once their due day has passed (a claim due
  today is not late yet: `shared.claim_position.on_time`). Below 95% is a breach, judged only
  on at least 5 claims (fewer says too little about a payer).
- Owed > 60 days: any open amount more than 60 days past its payment due (queried claims are
  paused and do not count), per (partnership, payer, VCSE organisation).

Level = the month of `as_of` ("2026-11"): a breach that persists is announced again each
month, and last month's alert is resolved when this month's is raised (or when the breach ends).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from services.notifier.model import ClaimState, ClaimTimeline
from shared.claim_position import on_time

from .candidates import (
    EQUITY_BREACH,
    PARTNER_VIEWERS,
    PAYER_STAFF,
    VCSE_STAFF,
    AlertCandidate,
    Recipients,
    owed_subject,
    payer_subject,
)
from .wording import english_title, name_of

WINDOW_DAYS = 90
TARGET_PERCENT = 95
MINIMUM_CLAIMS = 5
OWED_DAYS = 60
# How many claim ids an alert lists in its detail.
LISTED_CLAIMS = 50


@dataclass(frozen=True)
class OnTimeRate:
    window_start: date
    window_end: date
    judged: tuple[str, ...]
    late: tuple[str, ...]

    @property
    def on_time(self) -> int:
        return len(self.judged) - len(self.late)

    @property
    def percent(self) -> Decimal | None:
        if not self.judged:
            return None
        share = Decimal(self.on_time * 100) / Decimal(len(self.judged))
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def breached(self) -> bool:
        count = len(self.judged)
        return count >= MINIMUM_CLAIMS and self.on_time * 100 < count * TARGET_PERCENT


def month_level(as_of: date) -> str:
    return f"{as_of:%Y-%m}"


def on_time_rate(timelines: Iterable[ClaimTimeline], as_of: date) -> OnTimeRate:
    """The rolling-90-day on-time rate of the given claims (one payer's, normally)."""
    start = as_of - timedelta(days=WINDOW_DAYS - 1)
    judged: list[str] = []
    late: list[str] = []
    for timeline in timelines:
        state = timeline.state_as_at(as_of)
        if state is None or not start <= state.payment_due <= as_of:
            continue
        verdict = on_time(state, as_of)
        if verdict is None:
            continue
        judged.append(timeline.claim_id)
        if not verdict:
            late.append(timeline.claim_id)
    return OnTimeRate(start, as_of, tuple(judged), tuple(late))


def equity_alerts(
    partnership_id: str,
    payer_id: str,
    timelines: Iterable[ClaimTimeline],
    as_of: date,
    names: Mapping[str, str] | None = None,
) -> list[AlertCandidate]:
    """Equity breaches of one payer in one partnership, given all its claims there."""
    names = names or {}
    mine = [t for t in timelines if t.partnership_id == partnership_id and t.payer_id == payer_id]
    candidates: list[AlertCandidate] = []
    rate = on_time_rate(mine, as_of)
    payer = name_of(names, payer_id)
    if rate.breached:
        payees = sorted({t.payee_id for t in mine if t.claim_id in set(rate.judged)})
        detail: dict[str, object] = {
            "breach": "on_time_rate",
            "payer_name": payer,
            "window_start": rate.window_start.isoformat(),
            "window_end": rate.window_end.isoformat(),
            "claims_judged": len(rate.judged),
            "claims_on_time": rate.on_time,
            "on_time_percent": str(rate.percent),
            "target_percent": TARGET_PERCENT,
            "late_claim_ids": list(rate.late[:LISTED_CLAIMS]),
        }
        candidates.append(
            AlertCandidate(
                subject_id=payer_subject(partnership_id, payer_id),
                kind=EQUITY_BREACH,
                level=month_level(as_of),
                partnership_id=partnership_id,
                payer_id=payer_id,
                payee_id=None,
                claim_id=None,
                agreement_id=None,
                title=english_title(EQUITY_BREACH, detail, as_of),
                detail=detail,
                audience=(
                    Recipients(payer_id, PAYER_STAFF),
                    *(Recipients(payee, VCSE_STAFF) for payee in payees),
                    Recipients(None, PARTNER_VIEWERS),
                ),
            )
        )
    candidates.extend(_owed_alerts(partnership_id, payer_id, mine, as_of, names))
    return candidates


def _owed_alerts(
    partnership_id: str,
    payer_id: str,
    timelines: list[ClaimTimeline],
    as_of: date,
    names: Mapping[str, str],
) -> list[AlertCandidate]:
    owed: dict[str, list[tuple[ClaimTimeline, ClaimState]]] = defaultdict(list)
    for timeline in timelines:
        state = timeline.state_as_at(as_of)
        if state is not None and state.days_overdue > OWED_DAYS:
            owed[timeline.payee_id].append((timeline, state))
    candidates = []
    payer = name_of(names, payer_id)
    for payee_id, items in sorted(owed.items()):
        payee = name_of(names, payee_id)
        total = sum(state.open_pence for _, state in items)
        oldest = max(state.days_overdue for _, state in items)
        oldest_due = min(state.payment_due for _, state in items)
        detail = {
            "breach": "owed_over_60_days",
            "payer_name": payer,
            "payee_name": payee,
            "owed_pence": total,
            "owed_days": OWED_DAYS,
            "oldest_days_overdue": oldest,
            "oldest_payment_due": oldest_due.isoformat(),
            "claims": [
                {
                    "claim_id": t.claim_id,
                    "open_pence": s.open_pence,
                    "payment_due": s.payment_due.isoformat(),
                    "days_overdue": s.days_overdue,
                }
                for t, s in items[:LISTED_CLAIMS]
            ],
        }
        candidates.append(
            AlertCandidate(
                subject_id=owed_subject(partnership_id, payer_id, payee_id),
                kind=EQUITY_BREACH,
                level=month_level(as_of),
                partnership_id=partnership_id,
                payer_id=payer_id,
                payee_id=payee_id,
                claim_id=None,
                agreement_id=None,
                title=english_title(EQUITY_BREACH, detail, as_of),
                detail=detail,
                audience=(
                    Recipients(payer_id, PAYER_STAFF),
                    Recipients(payee_id, VCSE_STAFF),
                    Recipients(None, PARTNER_VIEWERS),
                ),
            )
        )
    return candidates


def equity_subjects(partnership_id: str, payer_id: str, payee_ids: Iterable[str]) -> set[str]:
    """Every subject `equity_alerts` may speak about for this payer and these payees."""
    subjects = {payer_subject(partnership_id, payer_id)}
    subjects.update(owed_subject(partnership_id, payer_id, payee) for payee in payee_ids)
    return subjects
