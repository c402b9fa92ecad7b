"""The access audit: who viewed, downloaded or exported which organisation's statements and
personal data. One row per access (table `access_audit`), written by the pages and commands
that show such data, read by operators (`bridges audit list`, `GET /v1/audit/access`).

An access is recorded once per organisation whose data it shows: a statement between a payer
and a payee is recorded against both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, insert, select

from .store.access_tables import access_audit

ACTIONS = ("view", "download", "export")
RESOURCES = ("statement", "claim", "organisation", "person")


@dataclass(frozen=True)
class AuditFilter:
    organisation_id: str | None = None
    actor: str | None = None
    action: str | None = None
    resource: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def record_access(
    engine: Engine | Connection,
    now: datetime,
    actor: str,
    organisation_ids: Iterable[str],
    action: str,
    resource: str,
    resource_id: str,
) -> None:
    assert action in ACTIONS and resource in RESOURCES, (action, resource)
    rows = [
        {
            "at": now,
            "actor": actor,
            "organisation_id": organisation_id,
            "action": action,
            "resource": resource,
            "resource_id": resource_id[:100],
        }
        for organisation_id in dict.fromkeys(organisation_ids)
    ]
    if not rows:
        return
    if isinstance(engine, Connection):
        engine.execute(insert(access_audit), rows)
        return
    with engine.begin() as connection:
        connection.execute(insert(access_audit), rows)


def record_claim_view(engine: Engine, now: datetime, actor: str, claim: Mapping[str, Any]) -> None:
    """A claim's contents were shown (its page, or the API's claim or history): they name the
    worker and the people who acted, and describe the work."""
    organisations = [claim["payee_id"], claim["payer_id"]]
    record_access(engine, now, actor, organisations, "view", "claim", claim["id"])


def list_access(connection: Connection, wanted: AuditFilter) -> list[dict[str, Any]]:
    """Newest first."""
    where: list[ColumnElement[bool]] = []
    column = access_audit.c
    if wanted.organisation_id is not None:
        where.append(column.organisation_id == wanted.organisation_id)
    if wanted.actor is not None:
        where.append(column.actor == wanted.actor)
    if wanted.action is not None:
        where.append(column.action == wanted.action)
    if wanted.resource is not None:
        where.append(column.resource == wanted.resource)
    if wanted.since is not None:
        where.append(column.at >= wanted.since)
    if wanted.until is not None:
        where.append(column.at < wanted.until)
    rows = connection.execute(
        select(access_audit)
        .where(*where)
        .order_by(column.at.desc(), column.id.desc())
        .limit(wanted.limit)
    )
    return [
        {
            "at": row.at.isoformat(),
            "actor": row.actor,
            "organisation_id": row.organisation_id,
            "action": row.action,
            "resource": row.resource,
            "resource_id": row.resource_id,
        }
        for row in rows
    ]
