"""Producing statements from the read model, and recording them in `nf_statements`.

Runs inside the caller's transaction (a write transaction: it records what it produced).
Delivery is not done here: `monthly_statements` returns the new statements with the
subscriptions they are for, so the caller can email them and raise `statement_ready`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from shared.calendar import is_working_day
from shared.sql import insert_for

from ..base_rate_notice import STALE_BASE_RATES
from ..data import load_base_rates
from ..interest import BaseRateHistory
from ..model import ClaimTimeline
from ..store.read_model import (
    AgreementTerms,
    load_agreements,
    load_claims,
    organisation_names,
    partnership_name,
)
from ..store.tables import agreements, organisations, statements, subscriptions
from .build import build_activity_statement, build_outstanding_statement
from .model import (
    ACTIVITY,
    KINDS,
    MONTHLY,
    ON_DEMAND,
    OUTSTANDING,
    TRIGGERS,
    ActivityStatement,
    OutstandingStatement,
    Parties,
    Party,
    Recipient,
    Statement,
)

# Fixed, so a statement's id is the same wherever and however often it is derived.
_STATEMENT_NAMESPACE = uuid.UUID("5b0f6c1e-8d2a-4f4e-9a53-3f0f5d7c2b61")
DEFAULT_NATION = "england"


class UnknownStatementScope(LookupError):
    """No agreement between this payer and payee in this partnership."""


def statement_id(
    partnership_id: str, payee_id: str, payer_id: str, kind: str, period_end: date, trigger: str
) -> str:
    """The id of the one statement recorded per scope, kind, period end and trigger."""
    name = "/".join((partnership_id, payee_id, payer_id, kind, period_end.isoformat(), trigger))
    return str(uuid.uuid5(_STATEMENT_NAMESPACE, name))


def first_working_day(year: int, month: int, nation: str = DEFAULT_NATION) -> date:
    """The first working day of a month in a UK nation (weekends and bank holidays skipped)."""
    day = date(year, month, 1)
    while not is_working_day(day, nation):
        day += timedelta(days=1)
    return day


def previous_month(day: date) -> tuple[date, date]:
    """The first and last day of the month before ``day``'s."""
    end = day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _parties(connection: Connection, partnership_id: str, payee_id: str, payer_id: str) -> Parties:
    rows = connection.execute(
        select(organisations.c.id, organisations.c.name).where(
            organisations.c.id.in_([payee_id, payer_id])
        )
    )
    names = {row.id: row.name for row in rows}
    return Parties(
        partnership=Party(partnership_id, partnership_name(connection, partnership_id) or ""),
        payee=Party(payee_id, names.get(payee_id, payee_id)),
        payer=Party(payer_id, names.get(payer_id, payer_id)),
    )


def _build(
    kind: str,
    parties: Parties,
    timelines: Iterable[ClaimTimeline],
    *,
    as_at: date | None,
    period: tuple[date, date] | None,
    rates: BaseRateHistory,
) -> ActivityStatement | OutstandingStatement:
    if kind == ACTIVITY:
        if period is None:
            raise ValueError("an activity statement needs a period (start, end)")
        return build_activity_statement(parties, timelines, period[0], period[1])
    if kind == OUTSTANDING:
        if as_at is None:
            raise ValueError("an outstanding statement needs an as-at date")
        body = build_outstanding_statement(parties, timelines, as_at, rates)
        if body.base_rates is not None:
            STALE_BASE_RATES.warn(body.base_rates, needed_by="outstanding statement")
        return body
    raise ValueError(f"unknown statement kind {kind!r}: expected one of {', '.join(KINDS)}")


def _recipients(connection: Connection, organisation_ids: Iterable[str]) -> tuple[Recipient, ...]:
    rows = connection.execute(
        select(subscriptions)
        .where(subscriptions.c.organisation_id.in_(list(organisation_ids)))
        .where(subscriptions.c.statements.is_(True))
        .where(subscriptions.c.active.is_(True))
        .order_by(subscriptions.c.organisation_id, subscriptions.c.created_at, subscriptions.c.id)
    )
    return tuple(Recipient(r.id, r.organisation_id, r.channel, r.target) for r in rows)


def _record(connection: Connection, statement: Statement) -> bool:
    """Record the statement; True if this call recorded it (False: it was already there).

    An on-demand statement for the same period refreshes the record's production time."""
    parties = statement.parties
    values: dict[str, Any] = {
        "id": statement.id,
        "partnership_id": parties.partnership.id,
        "payee_id": parties.payee.id,
        "payer_id": parties.payer.id,
        "kind": statement.kind,
        "period_start": statement.period_start,
        "period_end": statement.period_end,
        "produced_at": statement.produced_at,
        "trigger": statement.trigger,
        "recipients": [
            {
                "subscription_id": r.subscription_id,
                "organisation_id": r.organisation_id,
                "channel": r.channel,
                "target": r.target,
            }
            for r in statement.recipients
        ],
    }
    insert = insert_for(connection, statements).values(**values)
    if statement.trigger == ON_DEMAND:
        keys = ["partnership_id", "payee_id", "payer_id", "kind", "period_end", "trigger"]
        upsert = insert.on_conflict_do_update(
            index_elements=keys,
            set_={"produced_at": values["produced_at"], "period_start": values["period_start"]},
        )
        connection.execute(upsert)
        return True
    return connection.execute(insert.on_conflict_do_nothing()).rowcount == 1


def produce_statement(
    connection: Connection,
    partnership_id: str,
    payee_id: str,
    payer_id: str,
    kind: str,
    *,
    as_at: date | None = None,
    period: tuple[date, date] | None = None,
    trigger: str = ON_DEMAND,
    now: datetime,
    rates: BaseRateHistory | None = None,
    record: bool = True,
) -> Statement:
    """Build one statement for (partnership, VCSE organisation, payer) from the read model.

    ``kind`` activity needs ``period`` (start, end); outstanding needs ``as_at``. ``record``
    writes the `nf_statements` row (on demand: created, or its production time refreshed).
    Raises `UnknownStatementScope` when no agreement joins payer and payee in the partnership.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}: expected one of {', '.join(TRIGGERS)}")
    known = connection.execute(
        select(agreements.c.id)
        .where(agreements.c.partnership_id == partnership_id)
        .where(agreements.c.payee_id == payee_id)
        .where(agreements.c.payer_id == payer_id)
        .limit(1)
    ).first()
    if known is None:
        raise UnknownStatementScope(
            f"no agreement between payer {payer_id} and payee {payee_id} "
            f"in partnership {partnership_id}"
        )
    parties = _parties(connection, partnership_id, payee_id, payer_id)
    timelines = load_claims(
        connection, partnership_id=partnership_id, payee_id=payee_id, payer_id=payer_id
    )
    body = _build(
        kind, parties, timelines, as_at=as_at, period=period, rates=rates or load_base_rates()
    )
    end = body.period_end if isinstance(body, ActivityStatement) else body.as_at
    statement = Statement(
        id=statement_id(partnership_id, payee_id, payer_id, kind, end, trigger),
        kind=kind,
        trigger=trigger,
        produced_at=now,
        body=body,
        recipients=_recipients(connection, (payee_id, payer_id)) if trigger == MONTHLY else (),
    )
    if record:
        _record(connection, statement)
    return statement


def _pairs_due(connection: Connection, as_of: date) -> dict[str, list[tuple[str, str, bool]]]:
    """partnership → [(payee, payer, whether all the pair's agreements ended before the
    previous month)] for the pairs whose first working day (by the nation of their latest
    agreement) is ``as_of`` and whose first agreement started by the previous month's end."""
    start, end = previous_month(as_of)
    terms_by_pair: dict[tuple[str, str, str], list[AgreementTerms]] = defaultdict(list)
    for agreement in load_agreements(connection).values():
        pair = (agreement.partnership_id, agreement.payee_id, agreement.payer_id)
        terms_by_pair[pair].append(agreement)
    due: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for (partnership_id, payee_id, payer_id), terms in sorted(terms_by_pair.items()):
        latest = max(terms, key=lambda agreement: (agreement.starts_on, agreement.id))
        if as_of != first_working_day(as_of.year, as_of.month, latest.nation):
            continue
        if min(agreement.starts_on for agreement in terms) > end:
            continue
        ended = all(agreement.ends_on < start for agreement in terms)
        due[partnership_id].append((payee_id, payer_id, ended))
    return due


def _is_idle(body: ActivityStatement | OutstandingStatement) -> bool:
    if isinstance(body, ActivityStatement):
        return not body.lines and body.closing_pence == 0
    return not body.items


def monthly_statements(
    connection: Connection,
    as_of: date,
    now: datetime,
    *,
    rates: BaseRateHistory | None = None,
) -> list[Statement]:
    """On the first working day of a month, the previous month's statements for every
    (partnership, VCSE organisation, payer) with an agreement: an activity statement for the
    month and an outstanding statement as at its last day. Returns only those recorded by this
    call, so running it twice produces nothing new; on any other day it returns [].

    Working days are those of the nation of the pair's latest agreement. Pairs whose agreements
    all start after the month are skipped, and so are pairs whose agreements all ended before
    it with nothing open and nothing moving.
    """
    rates = rates or load_base_rates()
    start, end = previous_month(as_of)
    done = {
        (row.partnership_id, row.payee_id, row.payer_id, row.kind)
        for row in connection.execute(
            select(statements)
            .where(statements.c.trigger == MONTHLY)
            .where(statements.c.period_end == end)
        )
    }
    by_partnership = _pairs_due(connection, as_of)
    if not by_partnership:
        return []
    names = organisation_names(connection)
    produced: list[Statement] = []
    for partnership_id, pairs in by_partnership.items():
        partnership = Party(partnership_id, partnership_name(connection, partnership_id) or "")
        claims_by_pair: dict[tuple[str, str], list[ClaimTimeline]] = defaultdict(list)
        for timeline in load_claims(connection, partnership_id=partnership_id):
            claims_by_pair[(timeline.payee_id, timeline.payer_id)].append(timeline)
        for payee_id, payer_id, ended in pairs:
            kinds = [
                kind
                for kind in (ACTIVITY, OUTSTANDING)
                if (partnership_id, payee_id, payer_id, kind) not in done
            ]
            if not kinds:
                continue
            parties = Parties(
                partnership,
                Party(payee_id, names.get(payee_id, payee_id)),
                Party(payer_id, names.get(payer_id, payer_id)),
            )
            timelines = claims_by_pair[(payee_id, payer_id)]
            bodies = [
                _build(kind, parties, timelines, as_at=end, period=(start, end), rates=rates)
                for kind in kinds
            ]
            if ended and all(_is_idle(body) for body in bodies):
                continue
            recipients = _recipients(connection, (payee_id, payer_id))
            for kind, body in zip(kinds, bodies, strict=True):
                statement = Statement(
                    id=statement_id(partnership_id, payee_id, payer_id, kind, end, MONTHLY),
                    kind=kind,
                    trigger=MONTHLY,
                    produced_at=now,
                    body=body,
                    recipients=recipients,
                )
                if _record(connection, statement):
                    produced.append(statement)
    return produced
