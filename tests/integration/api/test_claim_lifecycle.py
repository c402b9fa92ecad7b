"""The whole claim lifecycle through the API, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask

from services.ledger.api.app import create_app
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, World, build_world

TODAY = date(2026, 11, 16)


@pytest.fixture
def both_world(database_url: str) -> World:
    clock = MovableClock(TODAY)
    app: Flask = create_app(LedgerSettings(database_url=database_url), clock=clock, testing=True)
    world = build_world(ApiClient(app.test_client()), app.extensions["bridges.ledger"], TODAY)
    world.clock = clock  # type: ignore[attr-defined]
    return world


def test_submit_query_answer_approve_in_part_pay_and_reverse(both_world: World) -> None:
    w, a = both_world, both_world.a
    clock: MovableClock = w.clock  # type: ignore[attr-defined]

    claim = w.submit(a, TODAY - timedelta(days=3))
    # 3.5 h co-design = half-day rate 8000; 2 h meeting = 2 × 2500; bus fares 1240.
    assert claim["status"] == "submitted"
    assert claim["version"] == 1
    assert [line["amount_pence"] for line in claim["lines"]] == [8000, 5000]
    assert [line["rate_basis"] for line in claim["lines"]] == ["half_day", "hourly"]
    assert claim["amount_pence"] == 14240
    assert claim["submitted_on"] == "2026-11-16"
    assert claim["approval_due"] == "2026-11-23"  # five working days
    assert claim["payment_due"] == "2026-12-16"  # thirty days

    clock.advance(1)
    claim = w.act(a, claim, "query", "approver", {"question": "Which ward was this for?"})
    assert claim["status"] == "queried"
    assert claim["open_question"] == "Which ward was this for?"

    clock.advance(4)  # four days waiting on the charity extend the payment clock
    claim = w.act(a, claim, "answer", "vcse_member", {"answer": "Ward 7, discharge lounge"})
    assert claim["status"] == "submitted"
    assert claim["payment_due"] == "2026-12-20"

    claim = w.act(
        a, claim, "approve", "approver", {"amount_pence": 12000, "reason": "Fares not receipted"}
    )
    assert claim["status"] == "approved"
    assert claim["approved_pence"] == 12000
    assert claim["outstanding_pence"] == 12000
    assert claim["decision_reason"] == "Fares not receipted"

    payment = w.pay(a, claim, 5000, clock.today())
    claim = w.api.ok("GET", f"/claims/{claim['id']}", a.tokens["vcse_member"])
    assert (claim["status"], claim["paid_pence"], claim["outstanding_pence"]) == (
        "part_paid",
        5000,
        7000,
    )

    reversed_payment = w.api.ok(
        "POST", f"/payments/{payment['id']}/reverse", a.tokens["finance"], {"reason": "Bounced"}
    )
    assert reversed_payment["reversed"] is True
    claim = w.api.ok("GET", f"/claims/{claim['id']}", a.tokens["vcse_member"])
    assert (claim["status"], claim["paid_pence"], claim["outstanding_pence"]) == (
        "approved",
        0,
        12000,
    )

    w.pay(a, claim, 12000, clock.today())
    claim = w.api.ok("GET", f"/claims/{claim['id']}", a.tokens["approver"])
    assert (claim["status"], claim["outstanding_pence"]) == ("paid", 0)

    history = w.api.ok("GET", f"/claims/{claim['id']}/history", a.tokens["vcse_member"])
    assert [e["type"] for e in history["events"]] == [
        "ClaimSubmitted",
        "ClaimQueried",
        "ClaimQueryAnswered",
        "ClaimApproved",
        "PaymentRecorded",
        "PaymentReversed",
        "PaymentRecorded",
    ]
    assert history["events"][0]["actor"] == a.person_ids["vcse_member"]
    assert history["events"][3]["actor"] == a.person_ids["approver"]

    balances = w.api.ok(
        "GET", f"/partnerships/{a.partnership_id}/balances", a.tokens["partner_viewer"]
    )
    (row,) = balances["organisations"]
    assert row["organisation_id"] == a.payee_id
    assert (row["claimed_pence"], row["approved_pence"], row["paid_pence"]) == (
        14240,
        12000,
        12000,
    )
    assert row["outstanding_pence"] == 0


def test_amend_while_queried_answers_the_query_and_reprices(both_world: World) -> None:
    w, a = both_world, both_world.a
    claim = w.submit(a, TODAY - timedelta(days=1))
    claim = w.act(a, claim, "query", "approver", {"question": "Was this training?"})
    body = w.claim_body(a, TODAY - timedelta(days=1))
    body["lines"][0]["activity"] = "training"
    body["lines"][0]["hours"] = "3"
    body.pop("agreement_id")
    response = w.api.call(
        "PATCH",
        f"/claims/{claim['id']}",
        a.tokens["vcse_member"],
        json=body,
        headers={"If-Match": '"2"'},
    )
    assert response.status_code == 200, response.get_json()
    amended = response.get_json()
    assert amended["status"] == "submitted"
    assert amended["version"] == 3
    assert response.headers["ETag"] == '"3"'
    # Training has its own hourly rate: 3 h × 2000, where a meeting would be 3 × 2500.
    assert (amended["lines"][0]["rate_basis"], amended["lines"][0]["amount_pence"]) == (
        "hourly",
        6000,
    )
    assert amended["amount_pence"] == 6000 + 5000 + 1240


def test_withdraw_and_reject_are_final(both_world: World) -> None:
    w, a = both_world, both_world.a
    first = w.submit(a, TODAY)
    withdrawn = w.act(a, first, "withdraw", "vcse_member")
    assert withdrawn["status"] == "withdrawn"
    second = w.submit(a, TODAY)
    rejected = w.act(a, second, "reject", "approver", {"reason": "Outside the programme"})
    assert rejected["status"] == "rejected"
    assert rejected["decision_reason"] == "Outside the programme"
    response = w.api.post(
        f"/claims/{withdrawn['id']}/approve",
        a.tokens["approver"],
        {},
        headers={"If-Match": '"2"'},
    )
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "withdrawn" in response.get_json()["detail"]
