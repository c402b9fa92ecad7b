"""Who may do what: the two-tenant matrix (S1), function-level checks (S3) and mass
assignment (S2). Another tenant's resource answers 404 and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.api.conftest import TODAY
from tests.support.world import World

ROLES = ("vcse_member", "vcse_admin", "approver", "finance", "partner_viewer", "operator")


@pytest.fixture
def two_tenants(world: World) -> Iterator[dict[str, Any]]:
    b = world.b
    submitted = world.submit(b, TODAY)
    approved = world.act(b, world.submit(b, TODAY), "approve", "approver")
    payment = world.pay(b, approved, 1000, TODAY)
    yield {"claim": submitted, "approved": approved, "payment": payment}


def routes_with_ids(w: World, ids: dict[str, Any]) -> list[tuple[str, str, Any]]:
    b = w.b
    claim_id = ids["claim"]["id"]
    return [
        ("GET", f"/claims/{claim_id}", None),
        ("GET", f"/claims/{claim_id}/history", None),
        ("PATCH", f"/claims/{claim_id}", {"lines": w.claim_body(b, TODAY)["lines"]}),
        ("POST", f"/claims/{claim_id}/approve", {}),
        ("POST", f"/claims/{claim_id}/query", {"question": "?"}),
        ("POST", f"/claims/{claim_id}/answer", {"answer": "!"}),
        ("POST", f"/claims/{claim_id}/reject", {"reason": "no"}),
        ("POST", f"/claims/{claim_id}/withdraw", {}),
        ("POST", f"/payments/{ids['payment']['id']}/reverse", {"reason": "no"}),
        ("GET", f"/partnerships/{b.partnership_id}/balances", None),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_ids_answer_404_and_write_nothing(
    world: World, two_tenants: dict[str, Any], role: str
) -> None:
    token = world.a.tokens[role]
    before = world.events_written()
    for method, path, body in routes_with_ids(world, two_tenants):
        response = world.api.call(method, path, token, json=body, headers={"If-Match": '"1"'})
        assert response.status_code == 404, (role, method, path, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert two_tenants["claim"]["id"] not in response.get_data(as_text=True)
    assert world.events_written() == before


@pytest.mark.parametrize("role", [r for r in ROLES if r != "operator"])
def test_people_and_agreements_of_another_tenant_are_404(
    world: World, two_tenants: dict[str, Any], role: str
) -> None:
    token = world.a.tokens[role]
    before = world.events_written()
    person = {"name": "X", "email": f"x.{role}@example.org", "roles": ["vcse_member"]}
    response = world.api.post(f"/organisations/{world.b.payee_id}/people", token, person)
    assert response.status_code == 404, response.get_json()
    agreement = {
        "payer_id": world.b.payer_id,
        "payee_id": world.b.payee_id,
        "nation": "england",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "rates": {"hourly_pence": 1},
    }
    response = world.api.post(
        f"/partnerships/{world.b.partnership_id}/agreements", token, agreement
    )
    assert response.status_code == 404, response.get_json()
    assert world.events_written() == before


@pytest.mark.parametrize("role", ROLES)
def test_listing_never_shows_another_tenants_claims(
    world: World, two_tenants: dict[str, Any], role: str
) -> None:
    own = world.submit(world.a, TODAY)
    response = world.api.get("/claims", world.a.tokens[role])
    if role == "operator":
        assert response.status_code == 403
        return
    ids = {item["id"] for item in response.get_json()["items"]}
    assert ids == {own["id"]}


def test_body_references_to_another_tenant_read_as_unknown(
    world: World, two_tenants: dict[str, Any]
) -> None:
    before = world.events_written()
    response = world.api.post(
        "/payments",
        world.a.tokens["finance"],
        {
            "payer_id": world.a.payer_id,
            "payee_id": world.a.payee_id,
            "paid_on": TODAY.isoformat(),
            "reference": "BACS 9",
            "allocations": [{"claim_id": two_tenants["approved"]["id"], "amount_pence": 1}],
        },
    )
    assert response.status_code == 422
    assert "allocations.0.claim_id" in response.get_json()["errors"]
    assert world.events_written() == before


# ---- function level (S3) ---------------------------------------------------------------

CLAIM_COMMANDS = {
    "approve": ({}, {"approver", "finance"}),
    "query": ({"question": "Which ward?"}, {"approver", "finance"}),
    "reject": ({"reason": "Not in scope"}, {"approver", "finance"}),
    "withdraw": ({}, {"vcse_member", "vcse_admin"}),
}


@pytest.mark.parametrize("action", sorted(CLAIM_COMMANDS))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_each_claim_command(world: World, action: str, role: str) -> None:
    body, allowed = CLAIM_COMMANDS[action]
    claim = world.submit(world.a, TODAY)
    before = world.events_written()
    response = world.api.post(
        f"/claims/{claim['id']}/{action}",
        world.a.tokens[role],
        body,
        headers={"If-Match": '"1"'},
    )
    if role in allowed:
        assert response.status_code == 200, response.get_json()
        assert world.events_written() == before + 1
    else:
        # Roles that can see the claim are refused (403); those that cannot get 404.
        expected = 404 if role == "operator" else 403
        assert response.status_code == expected, (role, action, response.get_json())
        assert world.events_written() == before


@pytest.mark.parametrize("role", ROLES)
def test_only_finance_records_payments(world: World, role: str) -> None:
    claim = world.act(world.a, world.submit(world.a, TODAY), "approve", "approver")
    before = world.events_written()
    response = world.api.post(
        "/payments",
        world.a.tokens[role],
        {
            "payer_id": world.a.payer_id,
            "payee_id": world.a.payee_id,
            "paid_on": TODAY.isoformat(),
            "reference": "BACS 10",
            "allocations": [{"claim_id": claim["id"], "amount_pence": 100}],
        },
    )
    if role == "finance":
        assert response.status_code == 201, response.get_json()
    else:
        assert response.status_code in (403, 422), (role, response.get_json())
        assert world.events_written() == before


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("vcse_member", "vcse_admin")])
def test_only_the_vcse_submits(world: World, role: str) -> None:
    before = world.events_written()
    response = world.api.post("/claims", world.a.tokens[role], world.claim_body(world.a, TODAY))
    assert response.status_code in (403, 422), (role, response.get_json())
    assert world.events_written() == before


@pytest.mark.parametrize("role", [r for r in ROLES if r != "operator"])
def test_only_operators_register_organisations_and_partnerships(world: World, role: str) -> None:
    before = world.events_written()
    token = world.a.tokens[role]
    response = world.api.post("/organisations", token, {"name": "New", "kind": "vcse"})
    assert response.status_code == 403
    response = world.api.post(
        "/partnerships",
        token,
        {"name": "P", "organisation_ids": [world.a.payer_id, world.a.payee_id]},
    )
    assert response.status_code == 403
    assert world.api.get("/events", token).status_code == 403
    assert world.events_written() == before


def test_vcse_admin_adds_people_to_their_own_organisation_only_without_operator(
    world: World,
) -> None:
    admin = world.a.tokens["vcse_admin"]
    ok = world.api.post(
        f"/organisations/{world.a.payee_id}/people",
        admin,
        {"name": "New Volunteer", "email": "new.volunteer@example.org", "roles": ["vcse_member"]},
    )
    assert ok.status_code == 201, ok.get_json()
    escalate = world.api.post(
        f"/organisations/{world.a.payee_id}/people",
        admin,
        {"name": "Sneaky", "email": "sneaky@example.org", "roles": ["operator"]},
    )
    assert escalate.status_code == 403
    member = world.api.post(
        f"/organisations/{world.a.payee_id}/people",
        world.a.tokens["vcse_member"],
        {"name": "Other", "email": "other@example.org", "roles": ["vcse_member"]},
    )
    assert member.status_code == 403


def test_mass_assignment_on_approve_by_a_vcse_user_is_refused(world: World) -> None:
    claim = world.submit(world.a, TODAY)
    before = world.events_written()
    response = world.api.post(
        f"/claims/{claim['id']}/approve",
        world.a.tokens["vcse_member"],
        {"amount_pence": 1, "is_operator": True},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert "is_operator" in response.get_json()["errors"]
    assert world.events_written() == before
