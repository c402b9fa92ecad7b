"""What a rule returns: an alert that should exist now, with who should hear of it.

An alert's identity is (subject, kind, level). The rules say which identities hold "as at" a
day; the alerts module raises the ones not raised before and resolves those that stopped
holding. Subjects are claim ids, agreement ids, or a stable hash of (partnership, payer[, payee])
for the equity alerts (a composite of three ids would not fit the 100-character column).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

APPROVAL_DUE_SOON = "approval_due_soon"
APPROVAL_OVERDUE = "approval_overdue"
PAYMENT_DUE_SOON = "payment_due_soon"
PAYMENT_OVERDUE = "payment_overdue"
QUERY_UNANSWERED = "query_unanswered"
BUDGET_THRESHOLD = "budget_threshold"
EQUITY_BREACH = "equity_breach"
STATEMENT_READY = "statement_ready"

# The kinds the rules decide, and so may also resolve. `statement_ready` is raised by the
# statements code and stays open until someone acknowledges it.
RULE_KINDS = frozenset(
    {
        APPROVAL_DUE_SOON,
        APPROVAL_OVERDUE,
        PAYMENT_DUE_SOON,
        PAYMENT_OVERDUE,
        QUERY_UNANSWERED,
        BUDGET_THRESHOLD,
        EQUITY_BREACH,
    }
)
ALERT_KINDS = RULE_KINDS | {STATEMENT_READY}

PAYER_APPROVERS = ("approver",)
PAYER_FINANCE = ("finance",)
PAYER_STAFF = ("approver", "finance")
VCSE_STAFF = ("vcse_admin", "vcse_member")
PARTNER_VIEWERS = ("partner_viewer",)

_SUBJECTS = uuid.UUID("7d0c1f52-62a8-4b43-9d5e-2f3a6c8b9e10")


@dataclass(frozen=True)
class Recipients:
    """People with one of `roles` in `organisation_id`; with `organisation_id` None, in any
    organisation of the alert's partnership. `copy` marks a courtesy copy (shown as such)."""

    organisation_id: str | None
    roles: tuple[str, ...]
    copy: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "organisation_id": self.organisation_id,
            "roles": list(self.roles),
            "copy": self.copy,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recipients:
        return cls(data.get("organisation_id"), tuple(data["roles"]), bool(data.get("copy")))


Audience = tuple[Recipients, ...]


@dataclass(frozen=True)
class AlertCandidate:
    """An alert that holds as at some day. `detail` is JSON-ready (dates as ISO strings)."""

    subject_id: str
    kind: str
    level: str
    partnership_id: str
    payer_id: str | None
    payee_id: str | None
    claim_id: str | None
    agreement_id: str | None
    title: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    audience: Audience = ()

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.subject_id, self.kind, self.level)


def payer_subject(partnership_id: str, payer_id: str) -> str:
    """The subject of a payer's on-time-rate alerts within one partnership."""
    return f"payer:{uuid.uuid5(_SUBJECTS, f'{partnership_id}|{payer_id}')}"


def owed_subject(partnership_id: str, payer_id: str, payee_id: str) -> str:
    """The subject of "a VCSE organisation owed more than 60 days by a payer" alerts."""
    return f"owed:{uuid.uuid5(_SUBJECTS, f'{partnership_id}|{payer_id}|{payee_id}')}"
