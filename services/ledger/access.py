"""Who may do what: the role table of the product contract, as plain functions.

Visibility comes first: a resource a person may not see answers 404 (its existence is not
leaked); a visible resource that their role may not act on answers 403.
"""

from __future__ import annotations

from shared.principal import APPROVING_ROLES, ROLES, VCSE_ROLES, Principal

__all__ = [
    "APPROVING_ROLES",
    "ROLES",
    "VCSE_ROLES",
    "Principal",
    "balance_scope",
    "can_act_for_payee",
    "can_decide_for_payer",
    "can_manage_people",
    "can_pay_for_payer",
    "can_see_claim",
    "effective_roles",
]


def can_see_claim(
    principal: Principal, *, payer_id: str, payee_id: str, in_partnership: bool
) -> bool:
    """Claim contents: the payee's VCSE people, the payer's approvers and finance, and the
    partnership's viewers. Not the operator: running the installation needs no claim contents."""
    if principal.has_any(VCSE_ROLES) and principal.organisation_id == payee_id:
        return True
    if principal.has_any(APPROVING_ROLES) and principal.organisation_id == payer_id:
        return True
    return "partner_viewer" in principal.roles and in_partnership


def can_act_for_payee(principal: Principal, payee_id: str) -> bool:
    """Submit, amend, answer and withdraw: the VCSE organisation's own people."""
    return principal.has_any(VCSE_ROLES) and principal.organisation_id == payee_id


def can_decide_for_payer(principal: Principal, payer_id: str) -> bool:
    """Approve, query and reject: the payer's approvers and finance officers."""
    return principal.has_any(APPROVING_ROLES) and principal.organisation_id == payer_id


def can_pay_for_payer(principal: Principal, payer_id: str) -> bool:
    """Record and reverse payments: the payer's finance officers."""
    return "finance" in principal.roles and principal.organisation_id == payer_id


def can_manage_people(principal: Principal, organisation_id: str) -> bool:
    """Add people: the operator for any organisation, a VCSE admin for their own."""
    if principal.is_operator:
        return True
    return "vcse_admin" in principal.roles and principal.organisation_id == organisation_id


def balance_scope(principal: Principal) -> tuple[str, str | None]:
    """Which balances a member of a partnership sees: ("all", None), ("payee", org) or
    ("payer", org)."""
    if "partner_viewer" in principal.roles:
        return ("all", None)
    if principal.has_any(APPROVING_ROLES) and principal.organisation_kind == "statutory":
        return ("payer", principal.organisation_id)
    if principal.has_any(VCSE_ROLES):
        return ("payee", principal.organisation_id)
    return ("none", None)


def effective_roles(added_with: object, from_idp: object) -> frozenset[str]:
    """A person's roles: those their organisation's identity provider gave at their latest
    sign-in through it (none once its groups stop mapping), else the roles they were added with.
    The web session and API tokens both read roles through this."""
    roles = from_idp if from_idp is not None else added_with
    return frozenset(roles) if isinstance(roles, list | tuple) else frozenset()
