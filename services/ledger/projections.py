"""Keep the ledger's read views in step with the log.

Called inside the unit of work that appended the events, so a view row and the events it
comes from commit together: the views are a cache of the events, never a second source of
truth.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from shared.claim_position import (
    ClaimTerms,
    fact_from_json,
    fact_of,
    fact_to_json,
    position_as_at,
    settlement_status,
)
from shared.events import catalogue
from shared.events.envelope import StoredEvent

from .domain.balances import SUMMED, fixed_contribution
from .queue import count_in_queue
from .store.data_keys import DataKeys
from .store.views import (
    agreements,
    allocations,
    claim_totals,
    claims,
    invoice_claims,
    invoices,
    organisations,
    partnership_members,
    partnerships,
    payments,
    people,
)

Projector = Callable[[Connection, StoredEvent, Mapping[str, Any]], None]
_PROJECTORS: dict[str, Projector] = {}


def projects(event_type: str) -> Callable[[Projector], Projector]:
    def register(function: Projector) -> Projector:
        _PROJECTORS[event_type] = function
        return function

    return register


# The views that keep a personal field in the clear (sign-in finds a person by email): they
# are projected from the opened event, and erasure scrubs them (services/ledger/people.py).
# Every other view keeps what the event stores, sealed.
_OPENED_FOR_VIEWS = frozenset({"PersonAdded"})


def project(
    connection: Connection, events: Sequence[StoredEvent], keys: DataKeys | None = None
) -> None:
    for event in events:
        projector = _PROJECTORS.get(event.type)
        if projector is None:
            continue
        if event.type in _OPENED_FOR_VIEWS:
            event = (keys or DataKeys(connection)).open([event])[0]
        projector(connection, event, event.data)


def _date(value: str) -> date:
    return date.fromisoformat(value)


@projects("OrganisationRegistered")
def _organisation(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    connection.execute(
        insert(organisations).values(
            id=data["organisation_id"],
            name=data["name"],
            kind=data["kind"],
            charity_number=data.get("charity_number"),
            company_number=data.get("company_number"),
            contact_email=data.get("contact_email"),
            vat_number=data.get("vat_number"),
            peppol_id=data.get("peppol_id"),
            registered_at=event.occurred_at,
        )
    )


@projects("OrganisationIdentifiersRecorded")
def _organisation_identifiers(
    connection: Connection, event: StoredEvent, data: Mapping[str, Any]
) -> None:
    connection.execute(
        update(organisations)
        .where(organisations.c.id == data["organisation_id"])
        .values({name: data.get(name) for name in IDENTIFIERS})
    )


IDENTIFIERS = ("charity_number", "company_number", "vat_number", "peppol_id")


@projects("PersonAdded")
def _person(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    connection.execute(
        insert(people).values(
            id=data["person_id"],
            organisation_id=data["organisation_id"],
            name=data["name"],
            email=data["email"],
            roles=list(data["roles"]),
        )
    )


@projects("PartnershipFormed")
def _partnership(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    connection.execute(
        insert(partnerships).values(
            id=data["partnership_id"], name=data["name"], formed_at=event.occurred_at
        )
    )
    for organisation_id in data["organisation_ids"]:
        connection.execute(
            insert(partnership_members).values(
                partnership_id=data["partnership_id"], organisation_id=organisation_id
            )
        )


@projects("AgreementSigned")
def _agreement(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    connection.execute(
        insert(agreements).values(
            id=data["agreement_id"],
            partnership_id=data["partnership_id"],
            payer_id=data["payer_id"],
            payee_id=data["payee_id"],
            version=event.stream_version,
            nation=data["nation"],
        )
    )
    connection.execute(
        insert(claim_totals).values(
            agreement_id=data["agreement_id"],
            partnership_id=data["partnership_id"],
            payer_id=data["payer_id"],
            payee_id=data["payee_id"],
            **dict.fromkeys(SUMMED, 0),
        )
    )


@projects("AgreementAmended")
def _agreement_amended(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    connection.execute(
        update(agreements)
        .where(agreements.c.id == data["agreement_id"])
        .values(version=event.stream_version)
    )


_INSERT_CLAIM = insert(claims)


@projects("ClaimSubmitted")
def _claim_submitted(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    facts = [_fact(data["claim_id"], event)]
    terms = ClaimTerms(
        claim_id=data["claim_id"],
        partnership_id=data["partnership_id"],
        payer_id=data["payer_id"],
        payee_id=data["payee_id"],
        submitted_on=_date(data["submitted_on"]),
        approval_due=_date(data["approval_due"]),
        base_payment_due=_date(data["payment_due"]),
    )
    settled_on, fixed = settlement(terms, facts)
    connection.execute(
        _INSERT_CLAIM,  # one statement, its values as parameters: compiled once
        {
            "id": data["claim_id"],
            "created_position": event.global_position,
            "partnership_id": data["partnership_id"],
            "agreement_id": data["agreement_id"],
            "payer_id": data["payer_id"],
            "payee_id": data["payee_id"],
            "status": "submitted",
            "version": event.stream_version,
            "submitted_on": terms.submitted_on,
            "amount_pence": data["amount_pence"],
            "approved_pence": 0,
            "paid_pence": 0,
            "approval_due": terms.approval_due,
            "base_payment_due": terms.base_payment_due,
            "facts": facts,
            "settled_on": settled_on,
        },
    )
    count_in_queue(connection, terms, None, "submitted")
    if fixed is not None:
        add_to_totals(connection, {data["agreement_id"]: fixed})


def _fact(claim_id: str, event: StoredEvent) -> dict[str, Any]:
    """The dated fact the event states about the claim (`shared.claim_position`), as JSON."""
    fact = fact_of(claim_id, catalogue.from_stored(event))
    assert fact is not None, f"{event.type} says nothing of claim {claim_id}"
    return fact_to_json(fact)


def settlement(
    terms: ClaimTerms, facts: Sequence[Mapping[str, Any]]
) -> tuple[date | None, dict[str, int] | None]:
    """Whether the claim's figures are fixed with every fact known (`fixed_contribution`):
    (the date of its last fact, its fixed contribution), or (None, None) while it is open."""
    known = tuple(fact_from_json(fact) for fact in facts)
    if not known:
        return None, None
    last = max(fact.on for fact in known)
    fixed = fixed_contribution(position_as_at(terms, known, last))
    return (last if fixed is not None else None), fixed


def add_to_totals(connection: Connection, deltas: Mapping[str, Mapping[str, int]]) -> None:
    """Add each agreement's delta to its `claim_totals` row.

    `SET x = x + delta` takes the row's lock, so concurrent commands never lose an update;
    rows are touched in agreement-id order, and always after the claim rows the command
    changed (claims first, then totals, everywhere), so two commands cannot deadlock on them.
    """
    for agreement_id in sorted(deltas):
        delta = deltas[agreement_id]
        if not any(delta.values()):
            continue
        result = connection.execute(
            update(claim_totals)
            .where(claim_totals.c.agreement_id == agreement_id)
            .values({name: claim_totals.c[name] + delta[name] for name in SUMMED})
        )
        if result.rowcount != 1:  # a missing row would silently drop the change
            raise RuntimeError(
                f"claim_totals has {result.rowcount} rows for agreement {agreement_id!r}, not 1"
            )


_CLAIM_ROW = (
    claims.c.id,
    claims.c.partnership_id,
    claims.c.agreement_id,
    claims.c.payer_id,
    claims.c.payee_id,
    claims.c.status,
    claims.c.submitted_on,
    claims.c.approval_due,
    claims.c.base_payment_due,
    claims.c.approved_pence,
    claims.c.paid_pence,
    claims.c.facts,
    claims.c.settled_on,
)


def claim_terms(row: Any) -> ClaimTerms:
    """A claim's terms from its view row (or any row with the same names)."""
    return ClaimTerms(
        claim_id=row.id,
        partnership_id=row.partnership_id,
        payer_id=row.payer_id,
        payee_id=row.payee_id,
        submitted_on=row.submitted_on,
        approval_due=row.approval_due,
        base_payment_due=row.base_payment_due,
    )


def _write_claim(
    connection: Connection, row: Any, fact: dict[str, Any], **values: Any
) -> tuple[str, dict[str, int]]:
    """Append `fact` to the claim's row with `values` (a new status moves it in or out of its
    payer's queue count); returns (its agreement, what its fixed contribution to
    `claim_totals` changed by)."""
    terms = claim_terms(row)
    before: Mapping[str, int] = {}
    if row.settled_on is not None:
        before = settlement(terms, row.facts or [])[1] or {}
    facts = [*(row.facts or []), fact]
    settled_on, after = settlement(terms, facts)
    connection.execute(
        update(claims)
        .where(claims.c.id == row.id)
        .values(facts=facts, settled_on=settled_on, **values)
    )
    if "status" in values:
        count_in_queue(connection, row, row.status, values["status"])
    delta = {name: (after or {}).get(name, 0) - before.get(name, 0) for name in SUMMED}
    return row.agreement_id, delta


def _claim_update(connection: Connection, event: StoredEvent, **values: Any) -> None:
    claim_id = event.data["claim_id"]
    row = connection.execute(select(*_CLAIM_ROW).where(claims.c.id == claim_id)).one()
    agreement_id, delta = _write_claim(
        connection, row, _fact(claim_id, event), version=event.stream_version, **values
    )
    add_to_totals(connection, {agreement_id: delta})


@projects("ClaimAmended")
def _claim_amended(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    _claim_update(connection, event, status="submitted", amount_pence=data["amount_pence"])


@projects("ClaimQueried")
def _claim_queried(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    _claim_update(connection, event, status="queried")


@projects("ClaimQueryAnswered")
def _claim_answered(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    _claim_update(connection, event, status="submitted")


@projects("ClaimApproved")
def _claim_approved(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    _claim_update(connection, event, status="approved", approved_pence=data["amount_pence"])


@projects("ClaimRejected")
def _claim_rejected(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    _claim_update(connection, event, status="rejected")


@projects("ClaimWithdrawn")
def _claim_withdrawn(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    _claim_update(connection, event, status="withdrawn")


def _settle(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    """Each claim the payment (or its reversal) allocates to: paid, status and its fact; then
    the totals of the agreements whose claims settled or reopened (claims first, in id order,
    then totals: see `add_to_totals`)."""
    decoded = catalogue.from_stored(event)
    claim_ids = sorted({a["claim_id"] for a in data["allocations"]})
    rows = connection.execute(select(*_CLAIM_ROW).where(claims.c.id.in_(claim_ids))).all()
    deltas: dict[str, dict[str, int]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        fact = fact_of(row.id, decoded)
        assert fact is not None
        change = fact.amount_pence if event.type == "PaymentRecorded" else -fact.amount_pence
        paid = row.paid_pence + change
        agreement_id, delta = _write_claim(
            connection,
            row,
            fact_to_json(fact),
            paid_pence=paid,
            status=settlement_status(row.approved_pence, paid),
        )
        total = deltas.setdefault(agreement_id, dict.fromkeys(SUMMED, 0))
        for name, value in delta.items():
            total[name] += value
    add_to_totals(connection, deltas)


@projects("PaymentRecorded")
def _payment(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    connection.execute(
        insert(payments).values(
            id=data["payment_id"],
            partnership_id=data["partnership_id"],
            payer_id=data["payer_id"],
            payee_id=data["payee_id"],
            paid_on=_date(data["paid_on"]),
            amount_pence=data["amount_pence"],
            reversed=0,
        )
    )
    for allocation in data["allocations"]:
        connection.execute(
            insert(allocations).values(
                payment_id=data["payment_id"],
                claim_id=allocation["claim_id"],
                amount_pence=allocation["amount_pence"],
            )
        )
    _settle(connection, event, data)


@projects("PaymentReversed")
def _payment_reversed(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    connection.execute(
        update(payments).where(payments.c.id == data["payment_id"]).values(reversed=1)
    )
    _settle(connection, event, data)


@projects("InvoiceIssued")
def _invoice(connection: Connection, event: StoredEvent, data: Mapping[str, Any]) -> None:
    connection.execute(
        insert(invoices).values(
            id=data["invoice_id"],
            issuer_id=data["issuer_id"],
            payer_id=data["payer_id"],
            sequence=data["sequence"],
            number=data["number"],
            issued_on=_date(data["issued_on"]),
            period=data.get("period"),
            total_pence=data["total_pence"],
            global_position=event.global_position,
        )
    )
    connection.execute(
        insert(invoice_claims),
        [
            {"claim_id": claim_id, "invoice_id": data["invoice_id"]}
            for claim_id in data["claim_ids"]
        ],
    )
