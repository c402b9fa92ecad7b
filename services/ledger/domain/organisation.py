"""Organisations (VCSE or statutory) and the people who act for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.events.types import (
    ORGANISATION_KINDS,
    PREFERRED_LANGUAGES,
    ROLES,
    OrganisationIdentifiersRecorded,
    OrganisationRegistered,
    PersonAdded,
    PreferredLanguageChosen,
)
from shared.messages import N_

from .validation import NAME_MAX, Problems

# England & Wales: 6-8 digits; Scotland: SC + 6 digits; Northern Ireland: NIC + 6 digits.
_CHARITY_NUMBER = re.compile(r"\d{6,8}|SC\d{6}|NIC\d{6}")
# Companies House: 8 digits, or a 2-letter prefix (SC, NI, OC, …) and 6 digits.
_COMPANY_NUMBER = re.compile(r"\d{8}|[A-Z]{2}\d{6}")
# UK VAT: GB and 9 or 12 digits (a branch), or GBGD / GBHA and 3 digits (government, health).
_VAT_NUMBER = re.compile(r"GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MAX = 254

VCSE_ROLES = frozenset({"vcse_member", "vcse_admin"})
STATUTORY_ROLES = frozenset({"approver", "finance"})


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    kind: str
    charity_number: str | None = None
    company_number: str | None = None
    contact_email: str | None = None
    vat_number: str | None = None
    peppol_id: str | None = None

    @classmethod
    def from_event(cls, event: OrganisationRegistered) -> Organisation:
        return cls(
            id=event.organisation_id,
            name=event.name,
            kind=event.kind,
            charity_number=event.charity_number,
            company_number=event.company_number,
            contact_email=event.contact_email,
            vat_number=event.vat_number,
            peppol_id=event.peppol_id,
        )


@dataclass(frozen=True)
class Person:
    id: str
    organisation_id: str
    name: str
    email: str
    roles: tuple[str, ...]

    @classmethod
    def from_event(cls, event: PersonAdded) -> Person:
        return cls(event.person_id, event.organisation_id, event.name, event.email, event.roles)


def register_organisation(
    organisation_id: str,
    name: object,
    kind: object,
    charity_number: object = None,
    company_number: object = None,
    contact_email: object = None,
    vat_number: object = None,
    peppol_id: object = None,
) -> OrganisationRegistered:
    """Register a VCSE or statutory organisation."""
    problems = Problems()
    checked_name = problems.text(name, "name", max_length=NAME_MAX)
    checked_kind = problems.choice(kind, "kind", ORGANISATION_KINDS)
    charity, company, vat, peppol = _identifiers(
        problems, charity_number, company_number, vat_number, peppol_id
    )
    email = _email(problems, contact_email, "contact_email", required=False)
    problems.raise_if_any()
    assert checked_name is not None and checked_kind is not None
    return OrganisationRegistered(
        organisation_id=organisation_id,
        name=checked_name,
        kind=checked_kind,
        charity_number=charity,
        company_number=company,
        contact_email=email,
        vat_number=vat,
        peppol_id=peppol,
    )


# Peppol participant schemes (EAS) a UK organisation is likely to hold, and their identifiers.
PEPPOL_SCHEMES = {
    "0088": ("a GLN", re.compile(r"\d{13}")),
    "0060": ("a DUNS number", re.compile(r"\d{9}")),
    "0199": ("an LEI", re.compile(r"[A-Z0-9]{18}\d{2}")),
    "9932": ("a UK VAT number", _VAT_NUMBER),
}


def _peppol_id(problems: Problems, value: object) -> str | None:
    """A Peppol participant id as ``scheme:identifier``, e.g. ``0088:5012345000008``."""
    text = problems.text(value, "peppol_id", max_length=64, required=False)
    if text is None:
        return None
    scheme, _, identifier = text.replace(" ", "").upper().partition(":")
    known = PEPPOL_SCHEMES.get(scheme)
    if known is None or not known[1].fullmatch(identifier):
        problems.add(
            "peppol_id",
            N_(
                "must be a Peppol participant id as scheme:identifier: 0088 and a GLN, "
                "0060 and a DUNS number, 0199 and an LEI, or 9932 and a UK VAT number"
            ),
        )
        return None
    if scheme == "0088" and not _gs1_check_digit_ok(identifier):
        problems.add("peppol_id", N_("the GLN's check digit is wrong"))
        return None
    return f"{scheme}:{identifier}"


def _gs1_check_digit_ok(digits: str) -> bool:
    """GS1's mod-10 check: weights 3 and 1 from the right, the check digit included."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def record_identifiers(
    organisation: Organisation,
    charity_number: object = None,
    company_number: object = None,
    vat_number: object = None,
    peppol_id: object = None,
) -> OrganisationIdentifiersRecorded:
    """Record an organisation's identifiers as they now stand (None: it has none)."""
    problems = Problems()
    charity, company, vat, peppol = _identifiers(
        problems, charity_number, company_number, vat_number, peppol_id
    )
    problems.raise_if_any()
    return OrganisationIdentifiersRecorded(organisation.id, charity, company, vat, peppol)


def _identifiers(
    problems: Problems,
    charity_number: object,
    company_number: object,
    vat_number: object,
    peppol_id: object,
) -> tuple[str | None, str | None, str | None, str | None]:
    charity = _identifier(
        problems,
        charity_number,
        "charity_number",
        _CHARITY_NUMBER,
        N_("must be 6 to 8 digits (SC or NIC and 6 digits in Scotland or Northern Ireland)"),
    )
    company = _identifier(
        problems,
        company_number,
        "company_number",
        _COMPANY_NUMBER,
        N_("must be 8 characters: 8 digits, or 2 letters and 6 digits"),
    )
    vat = _identifier(
        problems,
        _gb(vat_number),
        "vat_number",
        _VAT_NUMBER,
        N_("must be a UK VAT number: GB and 9 digits (or 12 for a branch)"),
    )
    return charity, company, vat, _peppol_id(problems, peppol_id)


def _gb(value: object) -> object:
    """A VAT number as written (``123 4567 89``), with the GB prefix it is stored under."""
    if isinstance(value, str) and value.strip() and value.strip()[:2].upper() != "GB":
        return f"GB{value.strip()}"
    return value


def add_person(
    person_id: str,
    organisation: Organisation,
    name: object,
    email: object,
    roles: object,
) -> PersonAdded:
    """Add a person with one or more roles that fit the organisation's kind.

    VCSE roles belong in a VCSE organisation, approver and finance in a statutory one;
    partner_viewer and operator fit either.
    """
    problems = Problems()
    checked_name = problems.text(name, "name", max_length=NAME_MAX)
    checked_email = _email(problems, email, "email", required=True)
    checked_roles: list[str] = []
    for index, role in enumerate(
        problems.items(roles, "roles", minimum=1, maximum=len(ROLES), noun="role")
    ):
        path = f"roles.{index}"
        checked = problems.choice(role, path, ROLES)
        if checked is None:
            continue
        if checked in checked_roles:
            problems.add(path, N_("is listed twice"))
        elif checked in VCSE_ROLES and organisation.kind != "vcse":
            problems.add(path, N_("%(role)s is a role in a VCSE organisation", role=checked))
        elif checked in STATUTORY_ROLES and organisation.kind != "statutory":
            problems.add(path, N_("%(role)s is a role in a statutory organisation", role=checked))
        else:
            checked_roles.append(checked)
    problems.raise_if_any()
    assert checked_name is not None and checked_email is not None
    return PersonAdded(
        person_id=person_id,
        organisation_id=organisation.id,
        name=checked_name,
        email=checked_email,
        roles=tuple(checked_roles),
    )


def choose_language(
    organisation: Organisation, person: Person | None, language: object
) -> PreferredLanguageChosen:
    """The language of an organisation's (or one of its people's) emails and statements."""
    problems = Problems()
    checked = problems.choice(language, "language", PREFERRED_LANGUAGES)
    problems.raise_if_any()
    assert checked is not None
    return PreferredLanguageChosen(
        organisation_id=organisation.id,
        person_id=person.id if person is not None else None,
        language=checked,
    )


def _identifier(
    problems: Problems, value: object, path: str, pattern: re.Pattern[str], rule: str
) -> str | None:
    text = problems.text(value, path, max_length=16, required=False)
    if text is None:
        return None
    normalised = text.replace(" ", "").upper()
    if not pattern.fullmatch(normalised):
        problems.add(path, rule)
        return None
    return normalised


def _email(problems: Problems, value: object, path: str, *, required: bool) -> str | None:
    text = problems.text(value, path, max_length=EMAIL_MAX, required=required)
    if text is None:
        return None
    if not _EMAIL.fullmatch(text):
        problems.add(path, N_("must be an email address"))
        return None
    return text
