"""Evaluate the rules against the read model and bring the stored alerts in line.

In the caller's transaction: raise the alerts that hold and were never raised (with their
deliveries), resolve the open ones whose condition ended (paid, rejected, withdrawn, queried,
answered, approved, superseded by a newer level), reopen a resolved one whose condition holds
again (a reversed payment) without announcing it twice.

Two scopes:
- everything (`claim_ids` None: the scheduler's tick, `check`): partnership by partnership,
  every claim and agreement, all the rules including equity;
- some claims (the consumer, after a batch): the claim rules for those claims and the budget
  of their agreements (from the read model's current totals, one aggregate query), not the
  equity rules — those are rolling statistics that the next tick (a minute later) evaluates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, case, func, select, union

from services.notifier.model import APPROVED, UNDECIDED
from services.notifier.rules import (
    AlertCandidate,
    assess_partnership,
    budget_alerts,
    claim_alerts,
)
from services.notifier.rules.candidates import BUDGET_THRESHOLD, RULE_KINDS
from services.notifier.store.read_model import (
    AgreementTerms,
    load_agreements,
    load_claims,
    load_claims_by_id,
    organisation_names,
)
from services.notifier.store.tables import agreements, alerts, claims

from .recipients import Directory
from .records import UNRESOLVED, Alert, RaisedAlert
from .store import raise_candidates, reopen_all, resolve, unresolved_alerts

CLAIM_RULE_KINDS = RULE_KINDS - {BUDGET_THRESHOLD, "equity_breach"}


@dataclass
class Evaluation:
    """What one evaluation changed."""

    as_of: date
    raised: list[RaisedAlert] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    held: int = 0


def evaluate(
    connection: Connection,
    as_of: date,
    now: datetime,
    claim_ids: Iterable[str] | None = None,
) -> list[RaisedAlert]:
    """Raise and resolve alerts as at `as_of`; the alerts raised now (deliveries queued)."""
    return assess(connection, as_of, now, claim_ids).raised


def assess(
    connection: Connection,
    as_of: date,
    now: datetime,
    claim_ids: Iterable[str] | None = None,
) -> Evaluation:
    """`evaluate`, reporting also what was resolved and reopened."""
    evaluation = Evaluation(as_of)
    directory = Directory(connection)
    if claim_ids is None:
        names = organisation_names(connection)
        for partnership_id in _partnerships(connection):
            timelines = load_claims(connection, partnership_id=partnership_id)
            terms = load_agreements(connection, partnership_id=partnership_id)
            assessment = assess_partnership(partnership_id, timelines, terms, as_of, names)
            existing = unresolved_alerts(
                connection, kinds=RULE_KINDS, partnership_id=partnership_id
            )
            _reconcile(
                connection, assessment.candidates, existing, evaluation, as_of, now, directory
            )
        return evaluation
    wanted = sorted(set(claim_ids))
    if not wanted:
        return evaluation
    # Only what these claims need, a query or so per table whatever the partnerships hold.
    timelines = load_claims_by_id(connection, wanted)
    terms = load_agreements(connection, agreement_ids={t.agreement_id for t in timelines})
    names = organisation_names(
        connection,
        {o for t in timelines for o in (t.payer_id, t.payee_id)}
        | {o for a in terms.values() for o in (a.payer_id, a.payee_id)},
    )
    candidates: list[AlertCandidate] = []
    for timeline in timelines:
        candidates.extend(claim_alerts(timeline, terms.get(timeline.agreement_id), as_of, names))
    touched = sorted({t.agreement_id for t in timelines if t.agreement_id in terms})
    budgeted = [terms[a] for a in touched if terms[a].budget_pence]
    for agreement_id, committed in _committed(connection, budgeted).items():
        candidates.extend(budget_alerts(terms[agreement_id], committed, as_of, names))
    existing = [
        *unresolved_alerts(
            connection, kinds=CLAIM_RULE_KINDS, subject_ids=[t.claim_id for t in timelines]
        ),
        *unresolved_alerts(connection, kinds={BUDGET_THRESHOLD}, subject_ids=touched),
    ]
    _reconcile(connection, candidates, existing, evaluation, as_of, now, directory)
    return evaluation


def _reconcile(
    connection: Connection,
    candidates: Sequence[AlertCandidate],
    existing: Sequence[Alert],
    evaluation: Evaluation,
    as_of: date,
    now: datetime,
    directory: Directory,
) -> None:
    """`existing` = the unresolved alerts of every subject the candidates were judged for."""
    held = {c.identity: c for c in candidates}
    evaluation.held += len(held)
    unresolved = {a.identity for a in existing}
    # Stable order (by id) so that concurrent evaluations lock rows in the same order.
    ended = [a.id for a in existing if a.identity not in held]
    evaluation.resolved.extend(resolve(connection, ended, now))
    new = [c for identity, c in held.items() if identity not in unresolved]
    raised, known = raise_candidates(connection, new, now, as_of, directory=directory)
    evaluation.raised.extend(raised)
    evaluation.reopened.extend(reopen_all(connection, known))


def _partnerships(connection: Connection) -> list[str]:
    """Every partnership with agreements, claims or unresolved rule alerts."""
    query = union(
        select(agreements.c.partnership_id),
        select(claims.c.partnership_id),
        select(alerts.c.partnership_id).where(
            alerts.c.status.in_(UNRESOLVED), alerts.c.kind.in_(RULE_KINDS)
        ),
    )
    return sorted(connection.execute(query).scalars())


def _committed(connection: Connection, budgeted: list[AgreementTerms]) -> dict[str, int]:
    """Approved + pending pence per agreement, from the read model's current claim totals."""
    if not budgeted:
        return {}
    amount = case(
        (claims.c.status.in_(sorted(UNDECIDED)), claims.c.claimed_pence),
        (claims.c.status.in_(sorted(APPROVED)), claims.c.approved_pence),
        else_=0,
    )
    rows = connection.execute(
        select(claims.c.agreement_id, func.coalesce(func.sum(amount), 0))
        .where(claims.c.agreement_id.in_([a.id for a in budgeted]))
        .group_by(claims.c.agreement_id)
    )
    totals = {a.id: 0 for a in budgeted}
    totals.update({agreement_id: int(total) for agreement_id, total in rows})
    return totals
