"""Apply the ledger's events to the notifier's read model, inside the caller's transaction.

Idempotent by construction for replays: the consumer skips event ids it has processed, and
every write here is an upsert keyed by the entity, so rebuilding from the topic gives the
same rows as the live model.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from shared.events.envelope import StoredEvent
from shared.events.types import (
    AgreementAmended,
    AgreementSigned,
    ClaimAmended,
    ClaimApproved,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    ClaimWithdrawn,
    OrganisationRegistered,
    PartnershipFormed,
    PaymentRecorded,
    PaymentReversed,
    PersonAdded,
)
from shared.sql import insert_for

from .model import ClaimTimeline
from .store.read_model import fact_to_json, timeline_from_row
from .store.tables import (
    agreements,
    claims,
    organisations,
    partnership_members,
    partnerships,
    payments,
    people,
)

CLAIM_EVENTS = (
    ClaimAmended,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimApproved,
    ClaimRejected,
    ClaimWithdrawn,
)


def _upsert(connection: Connection, table: Any, key: str, values: dict[str, Any]) -> None:
    statement = insert_for(connection, table).values(**values)
    updates = {name: value for name, value in values.items() if name != key}
    connection.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates))


def apply_event(connection: Connection, envelope: StoredEvent, event: object) -> list[str]:
    """Apply one event; return the ids of the claims it changed (for the alert rules)."""
    if isinstance(event, OrganisationRegistered):
        _upsert(
            connection,
            organisations,
            "id",
            {
                "id": event.organisation_id,
                "name": event.name,
                "kind": event.kind,
                "contact_email": event.contact_email,
            },
        )
    elif isinstance(event, PersonAdded):
        _upsert(
            connection,
            people,
            "id",
            {
                "id": event.person_id,
                "organisation_id": event.organisation_id,
                "name": event.name,
                "email": event.email,
                "roles": list(event.roles),
            },
        )
    elif isinstance(event, PartnershipFormed):
        _upsert(
            connection,
            partnerships,
            "id",
            {
                "id": event.partnership_id,
                "name": event.name,
                "organisation_ids": list(event.organisation_ids),
            },
        )
        for organisation_id in event.organisation_ids:
            connection.execute(
                insert_for(connection, partnership_members)
                .values(partnership_id=event.partnership_id, organisation_id=organisation_id)
                .on_conflict_do_nothing()
            )
    elif isinstance(event, AgreementSigned):
        _upsert(
            connection,
            agreements,
            "id",
            {
                "id": event.agreement_id,
                "partnership_id": event.partnership_id,
                "payer_id": event.payer_id,
                "payee_id": event.payee_id,
                "nation": event.nation,
                "starts_on": event.starts_on,
                "ends_on": event.ends_on,
                "budget_pence": event.budget_pence,
                "payment_terms_days": event.payment_terms_days,
                "approval_sla_working_days": event.approval_sla_working_days,
                "reminder_schedule": list(event.reminder_schedule),
            },
        )
    elif isinstance(event, AgreementAmended):
        changes = {
            name: getattr(event, name)
            for name in (
                "budget_pence",
                "ends_on",
                "payment_terms_days",
                "approval_sla_working_days",
            )
            if getattr(event, name) is not None
        }
        if event.reminder_schedule is not None:
            changes["reminder_schedule"] = list(event.reminder_schedule)
        if changes:
            connection.execute(
                update(agreements).where(agreements.c.id == event.agreement_id).values(**changes)
            )
    elif isinstance(event, ClaimSubmitted):
        known = connection.execute(select(claims.c.id).where(claims.c.id == event.claim_id)).first()
        if known is not None:
            return []  # a replay: the claim has moved on since
        _save_claim(connection, ClaimTimeline.submitted(event), envelope.global_position)
        return [event.claim_id]
    elif isinstance(event, CLAIM_EVENTS):
        return _advance_claims(connection, envelope, event, [event.claim_id])
    elif isinstance(event, PaymentRecorded):
        _upsert(
            connection,
            payments,
            "id",
            {
                "id": event.payment_id,
                "partnership_id": event.partnership_id,
                "payer_id": event.payer_id,
                "payee_id": event.payee_id,
                "paid_on": event.paid_on,
                "reference": event.reference,
                "amount_pence": event.amount_pence,
                "allocations": [
                    {"claim_id": a.claim_id, "amount_pence": a.amount_pence}
                    for a in event.allocations
                ],
                "reversed_on": None,
                "reversal_reason": None,
            },
        )
        return _advance_claims(connection, envelope, event, [a.claim_id for a in event.allocations])
    elif isinstance(event, PaymentReversed):
        connection.execute(
            update(payments)
            .where(payments.c.id == event.payment_id)
            .values(reversed_on=event.reversed_on, reversal_reason=event.reason)
        )
        return _advance_claims(connection, envelope, event, [a.claim_id for a in event.allocations])
    return []


def _advance_claims(
    connection: Connection, envelope: StoredEvent, event: object, claim_ids: list[str]
) -> list[str]:
    changed = []
    for claim_id in dict.fromkeys(claim_ids):
        row = connection.execute(select(claims).where(claims.c.id == claim_id)).first()
        if row is None:
            # The claim's submission has not arrived (another partition, or a topic that
            # starts later than the ledger): nothing to attach the fact to.
            continue
        if row.last_position >= envelope.global_position:
            continue  # already applied (a replay)
        _save_claim(connection, timeline_from_row(row).apply(event), envelope.global_position)
        changed.append(claim_id)
    return changed


def _save_claim(connection: Connection, timeline: ClaimTimeline, position: int) -> None:
    last_day = max(fact.on for fact in timeline.facts)
    state = timeline.state_as_at(last_day)
    assert state is not None
    _upsert(
        connection,
        claims,
        "id",
        {
            "id": timeline.claim_id,
            "partnership_id": timeline.partnership_id,
            "agreement_id": timeline.agreement_id,
            "payer_id": timeline.payer_id,
            "payee_id": timeline.payee_id,
            "submitted_by": timeline.submitted_by,
            "submitted_on": timeline.submitted_on,
            "approval_due": timeline.approval_due,
            "base_payment_due": timeline.base_payment_due,
            "status": state.status,
            "claimed_pence": state.claimed_pence,
            "approved_pence": state.approved_pence,
            "paid_pence": state.paid_pence,
            "facts": [fact_to_json(f) for f in timeline.facts],
            "last_position": position,
        },
    )
