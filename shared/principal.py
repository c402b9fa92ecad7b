"""Who is asking: a person, their organisation and their roles. Both services authorise
against the same roles, which travel in the `PersonAdded` event."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

ROLES = ("vcse_member", "vcse_admin", "approver", "finance", "partner_viewer", "operator")
VCSE_ROLES = frozenset({"vcse_member", "vcse_admin"})
APPROVING_ROLES = frozenset({"approver", "finance"})


@dataclass(frozen=True)
class Principal:
    """The person behind a request, with their organisation and roles."""

    person_id: str
    organisation_id: str
    organisation_kind: str
    roles: frozenset[str]

    def has_any(self, roles: Collection[str]) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles
