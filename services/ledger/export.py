"""Everything the ledger holds about one organisation, as JSON: the organisation, its people
(no password hashes, no token digests), its partnerships, the agreements, claims (each with
its history of events) and payments it is a party to, with the payments' allocations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, or_, select

from services.ledger.application import stream
from services.ledger.store import EventStore, UnitOfWork
from services.ledger.store.data_keys import DataKeys
from shared.events.envelope import StoredEvent

from .store.views import (
    agreements,
    allocations,
    claims,
    invoices,
    organisations,
    partnership_members,
    partnerships,
    payments,
    people,
)

SECRET_COLUMNS = frozenset({"password_hash", "token_hash"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(connection: Connection, table: Table, *where: Any) -> list[dict[str, Any]]:
    result = connection.execute(select(table).where(*where))
    return [_row(row) for row in result]


def _row(row: Row[Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row._mapping.items() if k not in SECRET_COLUMNS}


def export_organisation(store: EventStore, organisation_id: str) -> dict[str, Any] | None:
    with store.engine.connect() as connection:
        found = _rows(connection, organisations, organisations.c.id == organisation_id)
        if not found:
            return None
        party = or_(claims.c.payer_id == organisation_id, claims.c.payee_id == organisation_id)
        member_of = select(partnership_members.c.partnership_id).where(
            partnership_members.c.organisation_id == organisation_id
        )
        its_claims = _rows(connection, claims, party)
        its_payments = _rows(
            connection,
            payments,
            or_(payments.c.payer_id == organisation_id, payments.c.payee_id == organisation_id),
        )
        for payment in its_payments:
            payment["allocations"] = [
                a for a in _rows(connection, allocations, allocations.c.payment_id == payment["id"])
            ]
        document: dict[str, Any] = {
            "organisation": found[0],
            "people": _rows(connection, people, people.c.organisation_id == organisation_id),
            "partnerships": _rows(connection, partnerships, partnerships.c.id.in_(member_of)),
            "partnership_members": _rows(
                connection, partnership_members, partnership_members.c.partnership_id.in_(member_of)
            ),
            "agreements": _rows(
                connection,
                agreements,
                or_(
                    agreements.c.payer_id == organisation_id,
                    agreements.c.payee_id == organisation_id,
                ),
            ),
            "claims": its_claims,
            "payments": its_payments,
            "invoices": _rows(
                connection,
                invoices,
                or_(
                    invoices.c.issuer_id == organisation_id, invoices.c.payer_id == organisation_id
                ),
            ),
        }
        for claim in its_claims:
            claim["history"] = claim_history(connection, claim["id"])
    return document


def event_document(event: StoredEvent) -> dict[str, Any]:
    return {
        "global_position": event.global_position,
        "event_id": str(event.event_id),
        "type": event.type,
        "schema_version": event.schema_version,
        "stream_version": event.stream_version,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "data": dict(event.data),
    }


def claim_history(connection: Connection, claim_id: str) -> list[dict[str, Any]]:
    """A claim's own events, their personal fields opened ("erased" once erased)."""
    stored = UnitOfWork(connection).read_stream(stream("claim", claim_id))
    return [event_document(e) for e in DataKeys(connection).open(stored)]
