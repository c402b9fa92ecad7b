"""Many partnerships and claims, fast: the `Ledger` application service called directly with
input loaded by the API's own schemas (the same events as through HTTP, without the HTTP)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.ledger.access import Principal
from services.ledger.api.schemas import AgreementIn, ClaimIn
from services.ledger.application import Ledger

TODAY = date(2026, 11, 16)
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Partnership:
    id: str
    agreement_id: str
    vcse: Principal


def build_partnerships(ledger: Ledger, count: int, today: date = TODAY) -> list[Partnership]:
    """`count` partnerships, each a payer, a VCSE payee, an agreement and one VCSE member."""
    run = next(_numbers)
    with ledger.store.unit_of_work() as uow:
        ops = ledger.register_organisation(
            uow, None, {"name": f"Operations {run}", "kind": "statutory"}
        )
        person = ledger.add_person(
            uow,
            None,
            ops["id"],
            {"name": "Olu Operator", "email": f"ops{run}@bridges.example", "roles": ["operator"]},
        )
    operator = Principal(person["id"], ops["id"], "statutory", frozenset({"operator"}))
    built = []
    for n in range(count):
        with ledger.store.unit_of_work() as uow:
            built.append(_partnership(ledger, uow, operator, f"{run}-{n}", today))
    return built


def _partnership(
    ledger: Ledger, uow: Any, operator: Principal, label: str, today: date
) -> Partnership:
    payer = ledger.register_organisation(
        uow, operator, {"name": f"ICB {label}", "kind": "statutory"}
    )
    payee = ledger.register_organisation(
        uow, operator, {"name": f"Charity {label}", "kind": "vcse", "charity_number": "1234567"}
    )
    partnership = ledger.form_partnership(
        uow,
        operator,
        {"name": f"Partnership {label}", "organisation_ids": [payer["id"], payee["id"]]},
    )
    agreement = ledger.sign_agreement(
        uow,
        operator,
        partnership["id"],
        AgreementIn().load(
            {
                "payer_id": payer["id"],
                "payee_id": payee["id"],
                "nation": "england",
                "starts_on": (today - timedelta(days=365)).isoformat(),
                "ends_on": (today + timedelta(days=365)).isoformat(),
                "rates": {"hourly_pence": 2500, "half_day_pence": 8000, "day_pence": 15000},
                "payment_terms_days": 30,
                "approval_sla_working_days": 5,
            }
        ),
    )
    member = ledger.add_person(
        uow,
        operator,
        payee["id"],
        {
            "name": f"Member {label}",
            "email": f"member.{label}@example.org",
            "roles": ["vcse_member"],
        },
    )
    vcse = Principal(member["id"], payee["id"], "vcse", frozenset({"vcse_member"}))
    return Partnership(partnership["id"], agreement["id"], vcse)


def claim_body(agreement_id: str, worked_on: date = TODAY, hours: str = "3.5") -> dict[str, Any]:
    """A claim as a client sends it (JSON)."""
    return {
        "agreement_id": agreement_id,
        "lines": [
            {
                "worked_on": worked_on.isoformat(),
                "hours": hours,
                "activity": "co_design",
                "worker": "Amina Khan",
                "description": "Co-design workshop, diabetes pathway",
            }
        ],
        "expenses": [{"category": "travel", "amount_pence": 1240, "description": "Bus fares"}],
    }


def submit_claims(ledger: Ledger, partnerships: list[Partnership], total: int) -> list[str]:
    """`total` claims, round-robin over the partnerships; returns the claim ids."""
    ids = []
    for n in range(total):
        partnership = partnerships[n % len(partnerships)]
        data = ClaimIn().load(claim_body(partnership.agreement_id, TODAY - timedelta(days=n % 20)))
        with ledger.store.unit_of_work() as uow:
            ids.append(ledger.submit_claim(uow, partnership.vcse, data)["id"])
    return ids
