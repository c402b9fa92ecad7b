"""Alerts as stored: the row, its JSON form, and its deterministic id.

An alert's id is a UUID5 of its identity (subject, kind, level): the same alert has the same
id in every database that raises it (a rebuilt read model, a second instance), so deliveries
and webhook receivers can rely on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.notifier.rules.candidates import Recipients

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
STATUSES = (OPEN, ACKNOWLEDGED, RESOLVED)
UNRESOLVED = (OPEN, ACKNOWLEDGED)

_ALERTS = uuid.UUID("c3e4a0b2-7f61-4d0e-8a5b-91f2d6e3c7a8")
# The audience travels inside `detail` under this key (no column of its own).
AUDIENCE_KEY = "audience"
# So does the correlation id of the ledger request that caused it (services/notifier/telemetry.py).
CORRELATION_KEY = "correlation_id"
_INTERNAL_KEYS = (AUDIENCE_KEY, CORRELATION_KEY)


def alert_id(subject_id: str, kind: str, level: str) -> str:
    return str(uuid.uuid5(_ALERTS, f"{subject_id}|{kind}|{level}"))


@dataclass(frozen=True)
class Alert:
    id: str
    subject_id: str
    kind: str
    level: str
    partnership_id: str
    payer_id: str | None
    payee_id: str | None
    claim_id: str | None
    agreement_id: str | None
    raised_on: date
    raised_at: datetime
    status: str
    title: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.subject_id, self.kind, self.level)

    @property
    def correlation_id(self) -> str | None:
        value = self.detail.get(CORRELATION_KEY)
        return str(value) if value else None

    @property
    def audience(self) -> tuple[Recipients, ...]:
        return tuple(Recipients.from_json(r) for r in self.detail.get(AUDIENCE_KEY, ()))

    def to_json(self) -> dict[str, Any]:
        """The alert as the API, the webhooks and the feed show it: the title in the language
        of the moment (the feed request's; English for webhooks)."""
        from services.notifier.rules.wording import shown_title  # the rules import records

        detail = {k: v for k, v in self.detail.items() if k not in _INTERNAL_KEYS}
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "kind": self.kind,
            "level": self.level,
            "partnership_id": self.partnership_id,
            "payer_id": self.payer_id,
            "payee_id": self.payee_id,
            "claim_id": self.claim_id,
            "agreement_id": self.agreement_id,
            "raised_on": self.raised_on.isoformat(),
            "raised_at": self.raised_at.isoformat(),
            "status": self.status,
            "title": shown_title(self)[0],
            "detail": detail,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": _iso(self.acknowledged_at),
            "resolved_at": _iso(self.resolved_at),
        }


@dataclass(frozen=True)
class RaisedAlert(Alert):
    """An alert raised just now, with how many deliveries were queued for it."""

    deliveries_queued: int = 0


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def alert_from_row(row: Any) -> Alert:
    return Alert(
        id=row.id,
        subject_id=row.subject_id,
        kind=row.kind,
        level=row.level,
        partnership_id=row.partnership_id,
        payer_id=row.payer_id,
        payee_id=row.payee_id,
        claim_id=row.claim_id,
        agreement_id=row.agreement_id,
        raised_on=row.raised_on,
        raised_at=row.raised_at,
        status=row.status,
        title=row.title,
        detail=dict(row.detail or {}),
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
    )
