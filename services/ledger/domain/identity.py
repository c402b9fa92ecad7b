"""Sign-in through an organisation's identity provider: which Bridges roles its groups give.

An organisation maps the groups (or app roles) its IdP puts in the ID token to Bridges roles.
The operator role is never mapped (it runs the installation, not an organisation's work), and a
mapped role must fit the organisation's kind, as for people added by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.events.types import ROLES
from shared.messages import N_

from .organisation import STATUTORY_ROLES, VCSE_ROLES
from .validation import Problems

MAPPABLE_ROLES = tuple(role for role in ROLES if role != "operator")
GROUP_MAX = 255


def check_role_map(role_map: object, organisation_kind: str) -> dict[str, list[str]]:
    """A {group: [role, ...]} map, checked; raises ValidationFailed with every problem."""
    problems = Problems()
    checked: dict[str, list[str]] = {}
    if not isinstance(role_map, Mapping) or not role_map:
        problems.add("role_map", N_("must map at least one group to roles"))
        problems.raise_if_any()
    assert isinstance(role_map, Mapping)
    for group, roles in role_map.items():
        path = f"role_map.{group}"
        if not isinstance(group, str) or not group.strip() or len(group) > GROUP_MAX:
            problems.add("role_map", N_("a group must be 1 to %(n)s characters", n=GROUP_MAX))
            continue
        if not isinstance(roles, list | tuple) or not roles:
            problems.add(path, N_("must list one or more roles"))
            continue
        valid: set[str] = set()
        for role in roles:
            if role not in MAPPABLE_ROLES:
                problems.add(
                    path,
                    N_("%(role)s is not a role an identity provider may give", role=repr(role)),
                )
            elif role in VCSE_ROLES and organisation_kind != "vcse":
                problems.add(path, N_("%(role)s is a role in a VCSE organisation", role=role))
            elif role in STATUTORY_ROLES and organisation_kind != "statutory":
                problems.add(path, N_("%(role)s is a role in a statutory organisation", role=role))
            else:
                valid.add(role)
        checked[group.strip()] = sorted(valid, key=ROLES.index)
    problems.raise_if_any()
    return checked


def roles_from_groups(groups: object, role_map: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """The Bridges roles the person's IdP groups give (none if no group maps). `groups` is the
    ID token's claim as sent: a list of strings, or one string."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list | tuple):
        return ()
    given = {
        role
        for group in groups
        if isinstance(group, str)
        for role in role_map.get(group, ())
        if role in MAPPABLE_ROLES
    }
    return tuple(sorted(given, key=ROLES.index))
