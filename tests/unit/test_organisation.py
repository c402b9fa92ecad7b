from __future__ import annotations

import pytest

from services.ledger.domain.errors import ValidationFailed
from services.ledger.domain.organisation import Organisation, add_person, register_organisation
from services.ledger.domain.partnership import Partnership, form_partnership

from .builders import ORGANISATIONS, PAYEE, PAYER


def test_register_organisation_normalises() -> None:
    event = register_organisation(
        "o1",
        "  Hope Street Community Trust ",
        "vcse",
        charity_number="sc 012345",
        company_number="sc123456",
        contact_email="hello@hope.example",
    )
    assert event.name == "Hope Street Community Trust"
    assert event.charity_number == "SC012345"
    assert event.company_number == "SC123456"
    assert Organisation.from_event(event).kind == "vcse"
    bare = register_organisation("o2", "North ICB", "statutory")
    assert bare.charity_number is None and bare.contact_email is None


def test_register_organisation_refuses_bad_fields_together() -> None:
    with pytest.raises(ValidationFailed) as caught:
        register_organisation(
            "o1",
            "x" * 201,
            "charity",
            charity_number="12",
            company_number="ABC",
            contact_email="not-an-email",
        )
    assert caught.value.errors == {
        "name": ["must be at most 200 characters"],
        "kind": ["must be one of: vcse, statutory"],
        "charity_number": [
            "must be 6 to 8 digits (SC or NIC and 6 digits in Scotland or Northern Ireland)"
        ],
        "company_number": ["must be 8 characters: 8 digits, or 2 letters and 6 digits"],
        "contact_email": ["must be an email address"],
    }
    with pytest.raises(ValidationFailed) as caught:
        register_organisation("o1", "   ", None)
    assert caught.value.errors == {"name": ["is required"], "kind": ["is required"]}


def test_add_person_roles_fit_the_organisation() -> None:
    event = add_person("p1", PAYEE, "Amina Khan", "amina@hope.example", ["vcse_member"])
    assert event.roles == ("vcse_member",)
    assert event.organisation_id == "hope"
    ops = add_person("p2", PAYER, "Op", "op@icb.example", ["approver", "finance", "operator"])
    assert ops.roles == ("approver", "finance", "operator")
    with pytest.raises(ValidationFailed) as caught:
        add_person("p3", PAYEE, "", "x", ["approver", "wizard", "vcse_admin", "vcse_admin"])
    assert caught.value.errors == {
        "name": ["is required"],
        "email": ["must be an email address"],
        "roles.0": ["approver is a role in a statutory organisation"],
        "roles.1": [
            "must be one of: vcse_member, vcse_admin, approver, finance, partner_viewer, operator"
        ],
        "roles.3": ["is listed twice"],
    }
    with pytest.raises(ValidationFailed) as caught:
        add_person("p4", PAYER, "A", "a@icb.example", [])
    assert caught.value.errors == {"roles": ["at least one role is required"]}


def test_form_partnership_needs_both_kinds_and_no_duplicates() -> None:
    event = form_partnership("p1", "Northside", ["icb", "hope"], ORGANISATIONS)
    assert Partnership.from_event(event).has_member("hope")
    with pytest.raises(ValidationFailed) as caught:
        form_partnership("p1", "Northside", ["hope", "bridge"], ORGANISATIONS)
    assert caught.value.errors == {
        "organisation_ids": ["at least one statutory organisation is required"]
    }
    with pytest.raises(ValidationFailed) as caught:
        form_partnership("p1", "", ["icb", "icb", "ghost", 7], ORGANISATIONS)
    assert caught.value.errors == {
        "name": ["is required"],
        "organisation_ids.1": ["is listed twice"],
        "organisation_ids.2": ["unknown organisation"],
        "organisation_ids.3": ["unknown organisation"],
        "organisation_ids": ["at least one VCSE organisation is required"],
    }
    with pytest.raises(ValidationFailed) as caught:
        form_partnership("p1", "N", "icb", ORGANISATIONS)
    assert caught.value.errors == {"organisation_ids": ["must be a list"]}
