"""Reading and writing the notifier's read model rows as the pure model's values."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from services.notifier.model import ClaimTimeline
from shared.claim_position import fact_from_json
from shared.events.personal import ERASED

from .tables import agreements, claims, organisations, partnerships, payments, people


@dataclass(frozen=True)
class AgreementTerms:
    id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    nation: str
    starts_on: date
    ends_on: date
    budget_pence: int | None
    payment_terms_days: int
    approval_sla_working_days: int
    reminder_schedule: tuple[int, ...]


@dataclass(frozen=True)
class PaymentRecord:
    id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    paid_on: date
    reference: str
    amount_pence: int
    allocations: tuple[tuple[str, int], ...]
    reversed_on: date | None
    reversal_reason: str | None


@dataclass(frozen=True)
class PersonRecord:
    id: str
    organisation_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    # The language of their emails: their own choice, else their organisation's (None: English).
    language: str | None = None


def timeline_from_row(row: Any) -> ClaimTimeline:
    return ClaimTimeline(
        claim_id=row.id,
        partnership_id=row.partnership_id,
        agreement_id=row.agreement_id,
        payer_id=row.payer_id,
        payee_id=row.payee_id,
        submitted_by=row.submitted_by,
        submitted_on=row.submitted_on,
        approval_due=row.approval_due,
        base_payment_due=row.base_payment_due,
        facts=tuple(fact_from_json(f) for f in row.facts),
    )


def load_claims(
    connection: Connection,
    *,
    partnership_id: str | None = None,
    payer_id: str | None = None,
    payee_id: str | None = None,
    statuses: Iterable[str] | None = None,
    claim_ids: Iterable[str] | None = None,
) -> list[ClaimTimeline]:
    """Claims matching every filter given, oldest first."""
    query = select(claims)
    if partnership_id is not None:
        query = query.where(claims.c.partnership_id == partnership_id)
    if payer_id is not None:
        query = query.where(claims.c.payer_id == payer_id)
    if payee_id is not None:
        query = query.where(claims.c.payee_id == payee_id)
    if statuses is not None:
        query = query.where(claims.c.status.in_(list(statuses)))
    if claim_ids is not None:
        query = query.where(claims.c.id.in_(list(claim_ids)))
    rows = connection.execute(query.order_by(claims.c.submitted_on, claims.c.id)).all()
    return [timeline_from_row(row) for row in rows]


# The timelines the consumer's batch has just written, while its after-batch hook runs.
_just_written: ContextVar[Mapping[str, ClaimTimeline] | None] = ContextVar(
    "bridges_claims_just_written", default=None
)


@contextmanager
def claims_just_written(timelines: Mapping[str, ClaimTimeline]) -> Iterator[None]:
    """While the consumer raises a batch's alerts, in the batch's transaction: these claims'
    rows were just written from these timelines (nothing has changed them since), so the
    rules read them here instead of reading the rows back."""
    token = _just_written.set(timelines)
    try:
        yield
    finally:
        _just_written.reset(token)


def load_claims_by_id(connection: Connection, claim_ids: Sequence[str]) -> list[ClaimTimeline]:
    """The stored claims among these (500 ids a query), those just written from memory."""
    known = _just_written.get() or {}
    found = [known[c] for c in claim_ids if c in known]
    unknown = [c for c in claim_ids if c not in known]
    for start in range(0, len(unknown), 500):
        found.extend(load_claims(connection, claim_ids=unknown[start : start + 500]))
    if known:
        found.sort(key=lambda t: (t.submitted_on, t.claim_id))
    return found


def agreement_from_row(row: Any) -> AgreementTerms:
    return AgreementTerms(
        id=row.id,
        partnership_id=row.partnership_id,
        payer_id=row.payer_id,
        payee_id=row.payee_id,
        nation=row.nation,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        budget_pence=row.budget_pence,
        payment_terms_days=row.payment_terms_days,
        approval_sla_working_days=row.approval_sla_working_days,
        reminder_schedule=tuple(row.reminder_schedule),
    )


def load_agreements(
    connection: Connection,
    *,
    partnership_id: str | None = None,
    agreement_ids: Iterable[str] | None = None,
) -> dict[str, AgreementTerms]:
    query = select(agreements)
    if partnership_id is not None:
        query = query.where(agreements.c.partnership_id == partnership_id)
    if agreement_ids is None:
        return {row.id: agreement_from_row(row) for row in connection.execute(query)}
    wanted = sorted(set(agreement_ids))
    found: dict[str, AgreementTerms] = {}
    for start in range(0, len(wanted), 500):
        chunk = query.where(agreements.c.id.in_(wanted[start : start + 500]))
        found.update((row.id, agreement_from_row(row)) for row in connection.execute(chunk))
    return found


def load_payments(
    connection: Connection,
    *,
    partnership_id: str | None = None,
    payer_id: str | None = None,
    payee_id: str | None = None,
) -> list[PaymentRecord]:
    query = select(payments)
    if partnership_id is not None:
        query = query.where(payments.c.partnership_id == partnership_id)
    if payer_id is not None:
        query = query.where(payments.c.payer_id == payer_id)
    if payee_id is not None:
        query = query.where(payments.c.payee_id == payee_id)
    return [
        PaymentRecord(
            id=row.id,
            partnership_id=row.partnership_id,
            payer_id=row.payer_id,
            payee_id=row.payee_id,
            paid_on=row.paid_on,
            reference=row.reference,
            amount_pence=row.amount_pence,
            allocations=tuple((a["claim_id"], int(a["amount_pence"])) for a in row.allocations),
            reversed_on=row.reversed_on,
            reversal_reason=row.reversal_reason,
        )
        for row in connection.execute(query.order_by(payments.c.paid_on, payments.c.id))
    ]


def load_people(
    connection: Connection, *, organisation_ids: Iterable[str] | None = None
) -> list[PersonRecord]:
    # An erased person is no one to write to (services/notifier/erasure.py).
    query = (
        select(people, organisations.c.preferred_language.label("org_language"))
        .outerjoin(organisations, organisations.c.id == people.c.organisation_id)
        .where(people.c.email != ERASED)
    )
    if organisation_ids is not None:
        query = query.where(people.c.organisation_id.in_(list(organisation_ids)))
    return [
        PersonRecord(
            row.id,
            row.organisation_id,
            row.name,
            row.email,
            tuple(row.roles),
            row.preferred_language or row.org_language,
        )
        for row in connection.execute(query.order_by(people.c.email))
    ]


def organisation_language(connection: Connection, organisation_id: str) -> str | None:
    """The organisation's chosen language for emails and statements (None: English)."""
    return connection.execute(
        select(organisations.c.preferred_language).where(organisations.c.id == organisation_id)
    ).scalar_one_or_none()


def organisation_names(
    connection: Connection, organisation_ids: Iterable[str] | None = None
) -> dict[str, str]:
    """Organisation names by id: every organisation's, or these organisations'."""
    query = select(organisations.c.id, organisations.c.name)
    if organisation_ids is None:
        return {row.id: row.name for row in connection.execute(query)}
    wanted = sorted(set(organisation_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = query.where(organisations.c.id.in_(wanted[start : start + 500]))
        found.update((row.id, row.name) for row in connection.execute(chunk))
    return found


def partnership_name(connection: Connection, partnership_id: str) -> str | None:
    return connection.execute(
        select(partnerships.c.name).where(partnerships.c.id == partnership_id)
    ).scalar_one_or_none()
