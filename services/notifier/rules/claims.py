"""Rules about one claim: its approval clock, its payment reminders, an unanswered query.

Levels:
- approval alerts have one level, "1".
- payment reminders follow the agreement's schedule of day offsets around payment due
  (default -3, 1, 7, 14 and 21): offset -3 is `payment_due_soon` level "d-3", offset 7 is
  `payment_overdue` level "d+7" (offset 0, the due day itself, counts as due soon). Only the
  newest offset passed holds: a run that starts late raises "d+14", not "d+1", "d+7" and
  "d+14" at once, and each older reminder is resolved when a newer one is raised, so a claim has
  at most one open payment reminder. An identity is never raised twice, so a level once
  passed is not raised again even if the clock moves back (a query extends payment due).
- an unanswered query's level is the day it was asked, so a second query can alert again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING

from services.notifier.model import FINAL, QUERIED, UNDECIDED, ClaimState, ClaimTimeline
from shared.calendar import add_working_days, working_days_between
from shared.events.types import DEFAULT_REMINDER_SCHEDULE

from .candidates import (
    APPROVAL_DUE_SOON,
    APPROVAL_OVERDUE,
    PAYER_APPROVERS,
    PAYER_FINANCE,
    PAYMENT_DUE_SOON,
    PAYMENT_OVERDUE,
    QUERY_UNANSWERED,
    VCSE_STAFF,
    AlertCandidate,
    Recipients,
)
from .wording import claim_detail, english_title

if TYPE_CHECKING:
    from services.notifier.store.read_model import AgreementTerms

# Working days a query may stay open before the VCSE organisation is reminded to answer.
QUERY_ANSWER_WORKING_DAYS = 5
# Approval is "due soon" from this many working days before approval due.
APPROVAL_WARNING_WORKING_DAYS = 1
# Without the agreement (not yet in the read model) the rules assume the common case.
DEFAULT_NATION = "england"


def claim_alerts(
    timeline: ClaimTimeline,
    terms: AgreementTerms | None,
    as_of: date,
    names: Mapping[str, str] | None = None,
) -> list[AlertCandidate]:
    """The claim alerts that hold at the end of `as_of`."""
    state = timeline.state_as_at(as_of)
    if state is None:
        return []
    names = names or {}
    nation = terms.nation if terms is not None else DEFAULT_NATION
    schedule = (
        terms.reminder_schedule
        if terms is not None and terms.reminder_schedule
        else DEFAULT_REMINDER_SCHEDULE
    )
    return [
        *approval_alerts(timeline, state, nation, as_of, names),
        *payment_alerts(timeline, state, schedule, as_of, names),
        *query_alerts(timeline, state, nation, as_of, names),
    ]


def _candidate(
    timeline: ClaimTimeline,
    kind: str,
    level: str,
    title: str,
    detail: dict[str, object],
    audience: tuple[Recipients, ...],
) -> AlertCandidate:
    return AlertCandidate(
        subject_id=timeline.claim_id,
        kind=kind,
        level=level,
        partnership_id=timeline.partnership_id,
        payer_id=timeline.payer_id,
        payee_id=timeline.payee_id,
        claim_id=timeline.claim_id,
        agreement_id=timeline.agreement_id,
        title=title,
        detail=detail,
        audience=audience,
    )


def approval_alerts(
    timeline: ClaimTimeline,
    state: ClaimState,
    nation: str,
    as_of: date,
    names: Mapping[str, str],
) -> list[AlertCandidate]:
    """Pending on or after the working day before approval due. A query pauses nothing here:
    a claim still undecided past approval due is overdue even while queried (flagged)."""
    if state.status not in UNDECIDED:
        return []
    due = state.approval_due
    detail: dict[str, object] = {
        **claim_detail(timeline, state, names),
        "while_queried": state.status == "queried",
    }
    audience = (Recipients(timeline.payer_id, PAYER_APPROVERS),)
    if as_of > due:
        late = working_days_between(due, as_of, nation)
        detail["working_days_late"] = late
        query_days = [f.on for f in timeline.known_on(as_of) if f.kind == QUERIED]
        detail["queried_after_due"] = any(on > due for on in query_days)
        title = english_title(APPROVAL_OVERDUE, detail, as_of)
        return [_candidate(timeline, APPROVAL_OVERDUE, "1", title, detail, audience)]
    if working_days_between(as_of, due, nation) <= APPROVAL_WARNING_WORKING_DAYS:
        title = english_title(APPROVAL_DUE_SOON, detail, as_of)
        return [_candidate(timeline, APPROVAL_DUE_SOON, "1", title, detail, audience)]
    return []


def reminder_level(offset: int) -> str:
    """``d-3``, ``d+0``, ``d+7``."""
    return f"d{offset:+d}"


def reminder_kind(offset: int) -> str:
    return PAYMENT_DUE_SOON if offset <= 0 else PAYMENT_OVERDUE


def current_reminder(schedule: tuple[int, ...], payment_due: date, as_of: date) -> int | None:
    """The newest reminder offset passed by `as_of`, if any."""
    passed = [offset for offset in schedule if as_of >= payment_due + timedelta(days=offset)]
    return max(passed) if passed else None


def payment_alerts(
    timeline: ClaimTimeline,
    state: ClaimState,
    schedule: tuple[int, ...],
    as_of: date,
    names: Mapping[str, str],
) -> list[AlertCandidate]:
    """The reminder the schedule calls for, while money is open and the payment clock runs
    (a query raised on or before payment due stops it; one raised later does not: the payer was
    already late). Claims still waiting for approval are included: a payer cannot escape
    lateness by not approving."""
    if state.status in FINAL or state.clock_paused or not state.is_open:
        return []
    if state.open_pence <= 0:
        return []
    offset = current_reminder(schedule, state.payment_due, as_of)
    if offset is None:
        return []
    kind = reminder_kind(offset)
    detail: dict[str, object] = {
        **claim_detail(timeline, state, names),
        "reminder_offset_days": offset,
        "schedule": list(schedule),
        "awaiting_approval": state.status in UNDECIDED,
    }
    title = english_title(kind, detail, as_of)
    audience = (
        Recipients(timeline.payer_id, PAYER_FINANCE),
        Recipients(timeline.payee_id, VCSE_STAFF, copy=True),
    )
    return [_candidate(timeline, kind, reminder_level(offset), title, detail, audience)]


def query_alerts(
    timeline: ClaimTimeline,
    state: ClaimState,
    nation: str,
    as_of: date,
    names: Mapping[str, str],
) -> list[AlertCandidate]:
    """A query open for 5 working days (the agreement's nation): the VCSE organisation is
    asked to answer it."""
    asked_on = state.query_open_since
    if state.status != "queried" or asked_on is None:
        return []
    if as_of < add_working_days(asked_on, QUERY_ANSWER_WORKING_DAYS, nation):
        return []
    open_for = working_days_between(asked_on, as_of, nation)
    question = next((f.text for f in reversed(timeline.known_on(as_of)) if f.kind == QUERIED), None)
    detail: dict[str, object] = {
        **claim_detail(timeline, state, names),
        "queried_on": asked_on.isoformat(),
        "question": question,
        "working_days_open": open_for,
    }
    title = english_title(QUERY_UNANSWERED, detail, as_of)
    audience = (Recipients(timeline.payee_id, VCSE_STAFF),)
    return [_candidate(timeline, QUERY_UNANSWERED, asked_on.isoformat(), title, detail, audience)]
