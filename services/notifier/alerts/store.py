"""Alerts in SQL: raise once, resolve, reopen, list, acknowledge — in the caller's transaction.

"Raised once" is the database's job: INSERT … ON CONFLICT DO NOTHING against the unique
(subject_id, kind, level), so two evaluations racing (threads, processes, a replay after a
crash) raise one row, and only the one that inserted it queues its deliveries.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from services.notifier.rules.candidates import AlertCandidate
from services.notifier.store.tables import alerts
from shared.logging import get_logger
from shared.sql import insert_for

from .. import telemetry
from .recipients import Directory, queue_alert_deliveries
from .records import (
    ACKNOWLEDGED,
    AUDIENCE_KEY,
    CORRELATION_KEY,
    OPEN,
    RESOLVED,
    STATUSES,
    UNRESOLVED,
    Alert,
    RaisedAlert,
    alert_from_row,
    alert_id,
)

MAX_PAGE = 200


def _alert_of(candidate: AlertCandidate, as_of: date, now: datetime) -> Alert:
    detail = dict(candidate.detail)
    detail[AUDIENCE_KEY] = [entry.to_json() for entry in candidate.audience]
    correlation_id = telemetry.correlation_of(candidate.claim_id)
    if correlation_id:
        # The ledger request that caused it (its X-Request-ID): support can follow it.
        detail[CORRELATION_KEY] = correlation_id
    return Alert(
        id=alert_id(*candidate.identity),
        subject_id=candidate.subject_id,
        kind=candidate.kind,
        level=candidate.level,
        partnership_id=candidate.partnership_id,
        payer_id=candidate.payer_id,
        payee_id=candidate.payee_id,
        claim_id=candidate.claim_id,
        agreement_id=candidate.agreement_id,
        raised_on=as_of,
        raised_at=now,
        status=OPEN,
        title=candidate.title[:300],
        detail=detail,
    )


def insert_alert(
    connection: Connection, candidate: AlertCandidate, as_of: date, now: datetime
) -> Alert | None:
    """Store the alert unless its identity exists; the new alert, or None."""
    alert = _alert_of(candidate, as_of, now)
    result = connection.execute(
        insert_for(connection, alerts)
        .values(**_alert_row(alert))
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT's rowcount here.
        .returning(alerts.c.id)
    )
    return alert if result.first() is not None else None


def raise_candidate(
    connection: Connection,
    candidate: AlertCandidate,
    now: datetime,
    as_of: date,
    *,
    directory: Directory | None = None,
) -> RaisedAlert | None:
    """Raise one alert and queue its deliveries, in the caller's transaction.

    None if that identity was raised before (whatever its status now). The statements code
    raises `statement_ready` through this."""
    alert = insert_alert(connection, candidate, as_of, now)
    if alert is None:
        return None
    return _announce(connection, alert, directory or Directory(connection), now)


def raise_candidates(
    connection: Connection,
    candidates: Iterable[AlertCandidate],
    now: datetime,
    as_of: date,
    *,
    directory: Directory | None = None,
) -> tuple[list[RaisedAlert], list[str]]:
    """`raise_candidate` for many, with one INSERT for them all (in id order, so concurrent
    evaluations lock rows in the same order): the alerts raised now, and the ids of those
    raised before (whatever their status now)."""
    wanted = {a.id: a for a in (_alert_of(c, as_of, now) for c in candidates)}
    if not wanted:
        return [], []
    ids = sorted(wanted)
    inserted: set[str] = set()
    statement = insert_for(connection, alerts).on_conflict_do_nothing().returning(alerts.c.id)
    for start in range(0, len(ids), 500):
        rows = [_alert_row(wanted[i]) for i in ids[start : start + 500]]
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT's rowcount here.
        inserted.update(connection.execute(statement, rows).scalars())
    directory = directory or Directory(connection)
    new = [wanted[i] for i in ids if i in inserted]
    directory.preload(
        o
        for alert in new
        for entry in alert.audience
        for o in (
            [entry.organisation_id]
            if entry.organisation_id is not None
            else directory.members(alert.partnership_id)
        )
    )
    raised = [_announce(connection, alert, directory, now) for alert in new]
    return raised, [i for i in ids if i not in inserted]


def _alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "subject_id": alert.subject_id,
        "kind": alert.kind,
        "level": alert.level,
        "partnership_id": alert.partnership_id,
        "payer_id": alert.payer_id,
        "payee_id": alert.payee_id,
        "claim_id": alert.claim_id,
        "agreement_id": alert.agreement_id,
        "raised_on": alert.raised_on,
        "raised_at": alert.raised_at,
        "status": alert.status,
        "title": alert.title,
        "detail": dict(alert.detail),
    }


def _announce(
    connection: Connection, alert: Alert, directory: Directory, now: datetime
) -> RaisedAlert:
    """Queue a just-inserted alert's deliveries, count and log it."""
    queued = queue_alert_deliveries(connection, alert, directory, now)
    telemetry.alert_raised(alert.kind)
    get_logger("notifier.alerts").info(
        "alert raised",
        alert_id=alert.id,
        kind=alert.kind,
        level=alert.level,
        claim_id=alert.claim_id,
        deliveries_queued=queued,
        correlation_id=alert.correlation_id,
    )
    return RaisedAlert(**alert.__dict__, deliveries_queued=queued)


def resolve(connection: Connection, alert_ids: Iterable[str], now: datetime) -> list[str]:
    """Mark open or acknowledged alerts resolved (one statement per 500); the ids changed."""
    wanted = sorted(set(alert_ids))
    changed: list[str] = []
    for start in range(0, len(wanted), 500):
        result = connection.execute(
            update(alerts)
            .where(alerts.c.id.in_(wanted[start : start + 500]), alerts.c.status.in_(UNRESOLVED))
            .values(status=RESOLVED, resolved_at=now)
            .returning(alerts.c.id)
        )
        changed.extend(result.scalars())
    return sorted(changed)


def reopen_all(connection: Connection, alert_ids: Iterable[str]) -> list[str]:
    """Resolved alerts whose condition holds again (e.g. a payment reversed) are open again;
    the ids reopened. Not delivered again: an identity is announced once."""
    wanted = sorted(set(alert_ids))
    changed: list[str] = []
    for start in range(0, len(wanted), 500):
        result = connection.execute(
            update(alerts)
            .where(alerts.c.id.in_(wanted[start : start + 500]), alerts.c.status == RESOLVED)
            .values(status=OPEN, resolved_at=None)
            .returning(alerts.c.id)
        )
        changed.extend(result.scalars())
    return sorted(changed)


def unresolved_alerts(
    connection: Connection,
    *,
    kinds: Iterable[str],
    partnership_id: str | None = None,
    subject_ids: Iterable[str] | None = None,
) -> list[Alert]:
    """Open and acknowledged alerts of these kinds, in a partnership or about these subjects."""
    query = select(alerts).where(alerts.c.status.in_(UNRESOLVED), alerts.c.kind.in_(list(kinds)))
    if partnership_id is not None:
        query = query.where(alerts.c.partnership_id == partnership_id)
    found: list[Alert] = []
    if subject_ids is None:
        return [alert_from_row(r) for r in connection.execute(query.order_by(alerts.c.id))]
    subjects = sorted(set(subject_ids))
    for start in range(0, len(subjects), 500):
        chunk = subjects[start : start + 500]
        rows = connection.execute(query.where(alerts.c.subject_id.in_(chunk)))
        found.extend(alert_from_row(r) for r in rows)
    return sorted(found, key=lambda a: a.id)


def get_alert(connection: Connection, identifier: str) -> Alert | None:
    row = connection.execute(select(alerts).where(alerts.c.id == identifier)).first()
    return alert_from_row(row) if row is not None else None


# ---- the feed -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertPage:
    items: list[Alert]
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"items": [a.to_json() for a in self.items], "next_cursor": self.next_cursor}


class InvalidCursor(ValueError):
    pass


def _encode_cursor(alert: Alert) -> str:
    raw = json.dumps([alert.raised_at.isoformat(), alert.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, identifier = json.loads(raw)
        instant = datetime.fromisoformat(at)
        if instant.tzinfo is None or not isinstance(identifier, str):
            raise ValueError
        return instant, identifier
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise InvalidCursor("cursor is not one this API returned") from None


def _strings(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def list_alerts(
    connection: Connection,
    *,
    organisation_ids: Iterable[str] | None = None,
    partnership_ids: Iterable[str] | None = None,
    partnership_id: str | None = None,
    status: str | Iterable[str] | None = None,
    kind: str | Iterable[str] | None = None,
    claim_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AlertPage:
    """Newest first. `organisation_ids` matches alerts whose payer or VCSE organisation is one
    of them, `partnership_ids` alerts of those partnerships (both given: either matches — a
    partner viewer sees the partnership's alerts, an organisation its own): that is who may
    see what. `partnership_id`, `status`, `kind` and `claim_id` then narrow it down. Every
    condition is in the query, before its LIMIT, so each page is full until the last, and
    only a page with more after it has a `next_cursor`. Cursor paging."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    query = select(alerts)
    organisations = _strings(organisation_ids)
    partnerships = _strings(partnership_ids)
    scopes = []
    if organisations is not None:
        scopes.append(alerts.c.payer_id.in_(organisations))
        scopes.append(alerts.c.payee_id.in_(organisations))
    if partnerships is not None:
        scopes.append(alerts.c.partnership_id.in_(partnerships))
    if organisations is not None or partnerships is not None:
        query = query.where(or_(*scopes))
    statuses = _strings(status)
    if statuses is not None:
        unknown = sorted(set(statuses) - set(STATUSES))
        if unknown:
            raise ValueError(f"unknown status {unknown}: expected some of {list(STATUSES)}")
        query = query.where(alerts.c.status.in_(statuses))
    kinds = _strings(kind)
    if kinds is not None:
        query = query.where(alerts.c.kind.in_(kinds))
    if claim_id is not None:
        query = query.where(alerts.c.claim_id == claim_id)
    if partnership_id is not None:
        query = query.where(alerts.c.partnership_id == partnership_id)
    if cursor:
        at, identifier = _decode_cursor(cursor)
        query = query.where(
            or_(alerts.c.raised_at < at, and_(alerts.c.raised_at == at, alerts.c.id < identifier))
        )
    rows = connection.execute(
        query.order_by(alerts.c.raised_at.desc(), alerts.c.id.desc()).limit(limit + 1)
    ).all()
    items = [alert_from_row(row) for row in rows[:limit]]
    next_cursor = _encode_cursor(items[-1]) if len(rows) > limit else None
    return AlertPage(items, next_cursor)


def acknowledge(
    connection: Connection,
    alert_id: str,
    person_id: str,
    now: datetime,
    *,
    organisation_ids: Iterable[str] | None = None,
    partnership_ids: Iterable[str] | None = None,
) -> Alert | None:
    """Acknowledge an open alert; idempotent (an acknowledged or resolved alert is returned as
    it is). None when there is no such alert or it is outside the given scope (answer 404)."""
    alert = get_alert(connection, alert_id)
    if alert is None or not _visible(alert, organisation_ids, partnership_ids):
        return None
    if alert.status != OPEN:
        return alert
    connection.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.status == OPEN)
        .values(status=ACKNOWLEDGED, acknowledged_by=person_id, acknowledged_at=now)
    )
    return get_alert(connection, alert_id)


def _visible(
    alert: Alert,
    organisation_ids: Iterable[str] | None,
    partnership_ids: Iterable[str] | None,
) -> bool:
    if organisation_ids is None and partnership_ids is None:
        return True
    organisations = set(_strings(organisation_ids) or ())
    partnerships = set(_strings(partnership_ids) or ())
    return (
        alert.payer_id in organisations
        or alert.payee_id in organisations
        or alert.partnership_id in partnerships
    )
