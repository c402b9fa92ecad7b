"""Reads the pages need beyond the Ledger's own queries: names, agreements, partnerships
and payments, from the ledger's read views (always filtered by the signed-in organisation)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select

from ..access import Principal
from ..application import Ledger
from ..documents import payment_view
from ..store.event_store import UnitOfWork
from ..store.views import (
    agreements,
    organisations,
    partnership_members,
    partnerships,
    payments,
    people,
)


def names_of_people(ledger: Ledger, ids: Iterable[str]) -> dict[str, str]:
    wanted = [i for i in set(ids) if i]
    if not wanted:
        return {}
    with ledger.reading() as uow:
        rows = uow.connection.execute(
            select(people.c.id, people.c.name).where(people.c.id.in_(wanted))
        ).all()
    return {row.id: row.name for row in rows}


def names_of_organisations(ledger: Ledger, ids: Iterable[str]) -> dict[str, str]:
    wanted = [i for i in set(ids) if i]
    if not wanted:
        return {}
    with ledger.reading() as uow:
        rows = uow.connection.execute(
            select(organisations.c.id, organisations.c.name).where(organisations.c.id.in_(wanted))
        ).all()
    return {row.id: row.name for row in rows}


def agreements_for_payee(ledger: Ledger, principal: Principal) -> list[dict[str, Any]]:
    """The agreements under which the principal's organisation may claim, with names."""
    with ledger.reading() as uow:
        rows = uow.connection.execute(
            select(
                agreements.c.id,
                agreements.c.payer_id,
                organisations.c.name.label("payer_name"),
                partnerships.c.name.label("partnership_name"),
            )
            .select_from(
                agreements.join(organisations, agreements.c.payer_id == organisations.c.id).join(
                    partnerships, agreements.c.partnership_id == partnerships.c.id
                )
            )
            .where(agreements.c.payee_id == principal.organisation_id)
            .order_by(partnerships.c.name, organisations.c.name)
        ).all()
    return [dict(row._mapping) for row in rows]


def partnerships_of(ledger: Ledger, principal: Principal) -> list[dict[str, Any]]:
    with ledger.reading() as uow:
        rows = uow.connection.execute(
            select(partnerships.c.id, partnerships.c.name)
            .select_from(
                partnerships.join(
                    partnership_members,
                    partnership_members.c.partnership_id == partnerships.c.id,
                )
            )
            .where(partnership_members.c.organisation_id == principal.organisation_id)
            .order_by(partnerships.c.name)
        ).all()
    return [dict(row._mapping) for row in rows]


def payments_of(ledger: Ledger, principal: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """Payments made or received by the principal's organisation, newest first."""
    with ledger.reading() as uow:
        ids = uow.connection.execute(
            select(payments.c.id)
            .where(
                or_(
                    payments.c.payer_id == principal.organisation_id,
                    payments.c.payee_id == principal.organisation_id,
                )
            )
            .order_by(payments.c.paid_on.desc(), payments.c.id)
            .limit(limit)
        ).scalars()
        return [view for i in list(ids) if (view := _payment(ledger, uow, i)) is not None]


def visible_payment(ledger: Ledger, principal: Principal, payment_id: str) -> dict[str, Any] | None:
    with ledger.reading() as uow:
        view = _payment(ledger, uow, payment_id)
    if view is None or principal.organisation_id not in (view["payer_id"], view["payee_id"]):
        return None
    return view


def _payment(ledger: Ledger, uow: UnitOfWork, payment_id: str) -> dict[str, Any] | None:
    payment = ledger.load_payment(uow, payment_id)
    return None if payment is None else payment_view(payment)
