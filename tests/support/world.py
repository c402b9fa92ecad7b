"""Two tenants built through the API, for tests that need people in every role.

Tenant A and tenant B each have a statutory payer, a VCSE organisation, a partnership, an
agreement and one person per role. The installation's operator belongs to neither.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient

from services.ledger.application import Ledger

_keys = itertools.count(1)


class ApiClient:
    """The Flask test client with bearer tokens and JSON bodies."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        token: str | None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.client.open(
            "/api/v1" + path, method=method, json=json, headers=all_headers, **kwargs
        )

    def get(self, path: str, token: str | None, **kwargs: Any) -> Any:
        return self.call("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None, json: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, token, json=json, **kwargs)

    def ok(self, method: str, path: str, token: str, json: Any = None, **kwargs: Any) -> Any:
        response = self.call(method, path, token, json=json, **kwargs)
        assert response.status_code < 300, (response.status_code, response.get_json())
        return response.get_json()


@dataclass
class Tenant:
    name: str
    payer_id: str
    payee_id: str
    partnership_id: str
    agreement_id: str
    tokens: dict[str, str] = field(default_factory=dict)
    person_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    api: ApiClient
    ledger: Ledger
    operator_token: str
    a: Tenant
    b: Tenant

    def claim_body(self, tenant: Tenant, worked_on: date, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "agreement_id": tenant.agreement_id,
            "lines": [
                {
                    "worked_on": worked_on.isoformat(),
                    "hours": "3.5",
                    "activity": "co_design",
                    "worker": "Amina Khan",
                    "description": "Co-design workshop, diabetes pathway",
                },
                {
                    "worked_on": worked_on.isoformat(),
                    "hours": 2,
                    "activity": "meeting",
                    "worker": "Amina Khan",
                    "description": "Programme board",
                },
            ],
            "expenses": [{"category": "travel", "amount_pence": 1240, "description": "Bus fares"}],
        }
        body.update(overrides)
        return body

    def submit(self, tenant: Tenant, worked_on: date, role: str = "vcse_member") -> dict[str, Any]:
        return self.api.ok(
            "POST", "/claims", tenant.tokens[role], self.claim_body(tenant, worked_on)
        )

    def act(
        self, tenant: Tenant, claim: dict[str, Any], action: str, role: str, body: Any = None
    ) -> dict[str, Any]:
        return self.api.ok(
            "POST",
            f"/claims/{claim['id']}/{action}",
            tenant.tokens[role],
            body if body is not None else {},
            headers={"If-Match": f'"{claim["version"]}"'},
        )

    def pay(
        self, tenant: Tenant, claim: dict[str, Any], amount: int, paid_on: date
    ) -> dict[str, Any]:
        return self.api.ok(
            "POST",
            "/payments",
            tenant.tokens["finance"],
            {
                "payer_id": tenant.payer_id,
                "payee_id": tenant.payee_id,
                "paid_on": paid_on.isoformat(),
                "reference": f"BACS {next(_keys)}",
                "allocations": [{"claim_id": claim["id"], "amount_pence": amount}],
            },
        )

    def events_written(self) -> int:
        return self.ledger.store.last_position()


ROLE_PEOPLE = {
    "vcse_member": ("payee", ["vcse_member"]),
    "vcse_admin": ("payee", ["vcse_admin"]),
    "approver": ("payer", ["approver"]),
    "finance": ("payer", ["finance"]),
    "partner_viewer": ("payer", ["partner_viewer"]),
}


def build_world(api: ApiClient, ledger: Ledger, today: date) -> World:
    with ledger.store.unit_of_work() as uow:
        ops = ledger.register_organisation(
            uow, None, {"name": "Bridges Operations", "kind": "statutory"}
        )
        operator = ledger.add_person(
            uow,
            None,
            ops["id"],
            {"name": "Olu Operator", "email": "ops@bridges.example", "roles": ["operator"]},
        )
        operator_token = ledger.issue_token(uow, operator["id"])
    tenants = [add_tenant(api, ledger, operator_token, name, today) for name in ("a", "b")]
    return World(api=api, ledger=ledger, operator_token=operator_token, a=tenants[0], b=tenants[1])


def add_tenant(api: ApiClient, ledger: Ledger, operator: str, name: str, today: date) -> Tenant:
    """A statutory payer, a VCSE organisation, their partnership and agreement, and one person
    per role."""
    payer = api.ok(
        "POST", "/organisations", operator, {"name": f"ICB {name.upper()}", "kind": "statutory"}
    )
    payee = api.ok(
        "POST",
        "/organisations",
        operator,
        {"name": f"Charity {name.upper()}", "kind": "vcse", "charity_number": "1234567"},
    )
    partnership = api.ok(
        "POST",
        "/partnerships",
        operator,
        {"name": f"Partnership {name.upper()}", "organisation_ids": [payer["id"], payee["id"]]},
    )
    agreement = api.ok(
        "POST",
        f"/partnerships/{partnership['id']}/agreements",
        operator,
        {
            "payer_id": payer["id"],
            "payee_id": payee["id"],
            "nation": "england",
            "starts_on": (today - timedelta(days=365)).isoformat(),
            "ends_on": (today + timedelta(days=365)).isoformat(),
            "rates": {
                "hourly_pence": 2500,
                "half_day_pence": 8000,
                "day_pence": 15000,
                "by_activity": {"training": {"hourly_pence": 2000}},
            },
            "budget_pence": 1_200_000,
            "payment_terms_days": 30,
            "approval_sla_working_days": 5,
        },
    )
    tenant = Tenant(name, payer["id"], payee["id"], partnership["id"], agreement["id"])
    for role, (side, roles) in ROLE_PEOPLE.items():
        organisation_id = payee["id"] if side == "payee" else payer["id"]
        person = api.ok(
            "POST",
            f"/organisations/{organisation_id}/people",
            operator,
            {"name": f"{role} {name}", "email": f"{role}.{name}@example.org", "roles": roles},
        )
        with ledger.store.unit_of_work() as uow:
            tenant.tokens[role] = ledger.issue_token(uow, person["id"])
        tenant.person_ids[role] = person["id"]
    tenant.tokens["operator"] = operator
    return tenant
