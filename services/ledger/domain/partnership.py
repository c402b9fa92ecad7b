"""Partnerships: named collaborations of statutory and VCSE organisations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.events.types import PartnershipFormed
from shared.messages import N_

from .organisation import Organisation
from .validation import NAME_MAX, Problems

MAX_MEMBERS = 200


@dataclass(frozen=True)
class Partnership:
    id: str
    name: str
    organisation_ids: tuple[str, ...]

    @classmethod
    def from_event(cls, event: PartnershipFormed) -> Partnership:
        return cls(event.partnership_id, event.name, event.organisation_ids)

    def has_member(self, organisation_id: str) -> bool:
        return organisation_id in self.organisation_ids


def form_partnership(
    partnership_id: str,
    name: object,
    organisation_ids: object,
    organisations: Mapping[str, Organisation],
) -> PartnershipFormed:
    """Form a partnership of at least one statutory and one VCSE organisation.

    ``organisations`` holds the known organisations by id (those not in it are unknown).
    """
    problems = Problems()
    checked_name = problems.text(name, "name", max_length=NAME_MAX)
    raw_ids = problems.items(
        organisation_ids, "organisation_ids", minimum=1, maximum=MAX_MEMBERS, noun="organisation"
    )
    members: list[Organisation] = []
    for index, raw in enumerate(raw_ids):
        path = f"organisation_ids.{index}"
        if not isinstance(raw, str) or raw not in organisations:
            problems.add(path, N_("unknown organisation"))
        elif any(member.id == raw for member in members):
            problems.add(path, N_("is listed twice"))
        else:
            members.append(organisations[raw])
    if raw_ids and not problems.errors.get("organisation_ids"):
        kinds = {member.kind for member in members}
        if "statutory" not in kinds:
            problems.add("organisation_ids", N_("at least one statutory organisation is required"))
        if "vcse" not in kinds:
            problems.add("organisation_ids", N_("at least one VCSE organisation is required"))
    problems.raise_if_any()
    assert checked_name is not None
    return PartnershipFormed(
        partnership_id=partnership_id,
        name=checked_name,
        organisation_ids=tuple(member.id for member in members),
    )
