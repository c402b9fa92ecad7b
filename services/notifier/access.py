"""Who may see what in the notifier: the same roles and tenant rules as the ledger, applied
to the notifier's own read model. Anything a person may not see answers 404."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from shared.principal import APPROVING_ROLES, VCSE_ROLES, Principal

from .store.tables import partnership_members


@dataclass(frozen=True)
class Reach:
    """What a principal may read: alerts and figures of these organisations (as payer or VCSE
    organisation) and, for partner viewers, of whole partnerships."""

    organisation_ids: tuple[str, ...]
    partnership_ids: tuple[str, ...]
    member_of: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.organisation_ids and not self.partnership_ids


def partnerships_of(connection: Connection, organisation_id: str) -> frozenset[str]:
    rows = connection.execute(
        select(partnership_members.c.partnership_id).where(
            partnership_members.c.organisation_id == organisation_id
        )
    ).scalars()
    return frozenset(rows)


def reach_of(connection: Connection, principal: Principal) -> Reach:
    member_of = partnerships_of(connection, principal.organisation_id)
    own = principal.has_any(VCSE_ROLES | APPROVING_ROLES)
    viewer = "partner_viewer" in principal.roles
    return Reach(
        organisation_ids=(principal.organisation_id,) if own else (),
        partnership_ids=tuple(sorted(member_of)) if viewer else (),
        member_of=member_of,
    )


def can_see_pair(
    principal: Principal, reach: Reach, partnership_id: str, payee_id: str, payer_id: str
) -> bool:
    """A statement of (partnership, VCSE organisation, payer): both sides see the same one, and
    the partnership's viewers see it too."""
    if partnership_id not in reach.member_of:
        return False
    if partnership_id in reach.partnership_ids:
        return True
    if principal.has_any(VCSE_ROLES) and principal.organisation_id == payee_id:
        return True
    return principal.has_any(APPROVING_ROLES) and principal.organisation_id == payer_id


def can_manage_subscriptions(principal: Principal) -> bool:
    """A VCSE admin for their organisation; a payer's finance officer for theirs."""
    return "vcse_admin" in principal.roles or (
        "finance" in principal.roles and principal.organisation_kind == "statutory"
    )
