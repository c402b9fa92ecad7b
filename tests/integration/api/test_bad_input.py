"""Every bad input of the product contract: a precise status and message, nothing written,
and the service still healthy afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.api.conftest import TODAY
from tests.support.world import World

PROBLEM = "application/problem+json"


def assert_refused(
    w: World, response: Any, status: int, *, field: str | None = None, says: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["status"] == status
    assert problem["type"].startswith("https://")
    assert problem["title"] and problem["detail"]
    if field is not None:
        assert field in problem["errors"], problem
        if says is not None:
            assert any(says in message for message in problem["errors"][field]), problem
    elif says is not None:
        assert says in problem["detail"], problem
    return problem


@pytest.fixture
def w(world: World) -> Iterator[World]:
    """The world, checked after each test: no event written, the service still healthy."""
    world.before = world.events_written()  # type: ignore[attr-defined]
    yield world
    assert world.events_written() == world.before, "a refused request wrote events"  # type: ignore[attr-defined]
    assert world.api.client.get("/healthz").status_code == 200


def claim(w: World, **changes: Any) -> Any:
    return w.api.post("/claims", w.a.tokens["vcse_member"], w.claim_body(w.a, TODAY, **changes))


def line(**changes: Any) -> dict[str, Any]:
    base = {
        "worked_on": TODAY.isoformat(),
        "hours": "2",
        "activity": "meeting",
        "worker": "Amina Khan",
        "description": "Board",
    }
    base.update(changes)
    return base


def test_unknown_field(w: World) -> None:
    assert_refused(w, claim(w, status="approved"), 422, field="status", says="Unknown field")


def test_mass_assignment_of_amount_and_version_on_a_line(w: World) -> None:
    response = claim(w, lines=[line(amount_pence=1)], version=7)
    problem = assert_refused(w, response, 422)
    assert {"version", "lines.0.amount_pence"} <= set(problem["errors"])


def test_wrong_types(w: World) -> None:
    response = claim(w, lines=[line(hours=True, worked_on=20261101)])
    problem = assert_refused(w, response, 422)
    assert {"lines.0.hours", "lines.0.worked_on"} <= set(problem["errors"])


@pytest.mark.parametrize("amount", [-5, 0, 12.5, "1240"])
def test_negative_zero_fractional_or_string_pence(w: World, amount: Any) -> None:
    response = claim(
        w, expenses=[{"category": "travel", "amount_pence": amount, "description": "x"}]
    )
    assert_refused(w, response, 422, field="expenses.0.amount_pence")


@pytest.mark.parametrize("hours", ["1.1", "0.1", "24.25", "-1", "0", "abc", 2.6])
def test_hours_not_in_quarter_steps_or_out_of_range(w: World, hours: Any) -> None:
    assert_refused(w, claim(w, lines=[line(hours=hours)]), 422, field="lines.0.hours")


def test_date_in_the_future(w: World) -> None:
    response = claim(w, lines=[line(worked_on=(TODAY + timedelta(days=1)).isoformat())])
    assert_refused(w, response, 422, field="lines.0.worked_on", says="future")


def test_date_outside_the_agreement(w: World) -> None:
    response = claim(w, lines=[line(worked_on=(TODAY - timedelta(days=400)).isoformat())])
    assert_refused(w, response, 422, field="lines.0.worked_on", says="agreement")


def test_amount_over_outstanding(w: World) -> None:
    submitted = w.submit(w.a, TODAY)
    approved = w.act(w.a, submitted, "approve", "approver")
    w.before = w.events_written()  # type: ignore[attr-defined]
    response = w.api.post(
        "/payments",
        w.a.tokens["finance"],
        {
            "payer_id": w.a.payer_id,
            "payee_id": w.a.payee_id,
            "paid_on": TODAY.isoformat(),
            "reference": "BACS 1",
            "allocations": [
                {"claim_id": approved["id"], "amount_pence": approved["amount_pence"] + 1}
            ],
        },
    )
    assert_refused(w, response, 422, field="allocations.0.amount_pence", says="outstanding")


def test_partial_approval_over_the_claimed_amount(w: World) -> None:
    submitted = w.submit(w.a, TODAY)
    w.before = w.events_written()  # type: ignore[attr-defined]
    response = w.api.post(
        f"/claims/{submitted['id']}/approve",
        w.a.tokens["approver"],
        {"amount_pence": submitted["amount_pence"] + 1},
        headers={"If-Match": '"1"'},
    )
    assert_refused(w, response, 422, field="amount_pence", says="exceed")


def test_partial_approval_without_a_reason(w: World) -> None:
    submitted = w.submit(w.a, TODAY)
    w.before = w.events_written()  # type: ignore[attr-defined]
    response = w.api.post(
        f"/claims/{submitted['id']}/approve",
        w.a.tokens["approver"],
        {"amount_pence": 100},
        headers={"If-Match": '"1"'},
    )
    assert_refused(w, response, 422, field="reason", says="reason")


def test_self_approval(w: World) -> None:
    # Roles must fit the organisation's kind, so no real person both submits and approves:
    # the rule is tried through the application service with the submitter as approver.
    submitted = w.submit(w.a, TODAY)
    ledger = w.ledger
    from services.ledger.access import Principal

    approver = Principal(
        person_id=submitted["submitted_by"],
        organisation_id=w.a.payer_id,
        organisation_kind="statutory",
        roles=frozenset({"approver"}),
    )
    w.before = w.events_written()  # type: ignore[attr-defined]
    from services.ledger.domain.errors import NotAllowed

    with pytest.raises(NotAllowed), ledger.store.unit_of_work() as uow:
        ledger.claim_command(uow, approver, submitted["id"], 1, "approve", {})


def test_approving_a_withdrawn_claim(w: World) -> None:
    withdrawn = w.act(w.a, w.submit(w.a, TODAY), "withdraw", "vcse_member")
    w.before = w.events_written()  # type: ignore[attr-defined]
    response = w.api.post(
        f"/claims/{withdrawn['id']}/approve",
        w.a.tokens["approver"],
        {},
        headers={"If-Match": f'"{withdrawn["version"]}"'},
    )
    assert_refused(w, response, 409, says="withdrawn")


def test_payment_to_the_wrong_organisation(w: World) -> None:
    approved = w.act(w.a, w.submit(w.a, TODAY), "approve", "approver")
    w.before = w.events_written()  # type: ignore[attr-defined]
    response = w.api.post(
        "/payments",
        w.a.tokens["finance"],
        {
            "payer_id": w.a.payer_id,
            "payee_id": w.b.payee_id,
            "paid_on": TODAY.isoformat(),
            "reference": "BACS 2",
            "allocations": [{"claim_id": approved["id"], "amount_pence": 100}],
        },
    )
    problem = assert_refused(w, response, 422)
    assert any("allocations.0" in f or f == "payee_id" for f in problem["errors"]), problem


def test_malformed_json(w: World) -> None:
    response = w.api.client.post(
        "/api/v1/claims",
        data='{"agreement_id": ',
        content_type="application/json",
        headers={"Authorization": f"Bearer {w.a.tokens['vcse_member']}"},
    )
    assert_refused(w, response, 400, says="JSON")


def test_oversized_body(w: World) -> None:
    body = w.claim_body(w.a, TODAY)
    body["lines"][0]["description"] = "x" * 2_000_000
    assert_refused(w, claim(w, lines=body["lines"]), 413)


def test_unknown_claim_id(w: World) -> None:
    response = w.api.get("/claims/00000000-0000-0000-0000-000000000000", w.a.tokens["vcse_member"])
    assert_refused(w, response, 404)


def test_unknown_agreement_id_in_the_body(w: World) -> None:
    response = claim(w, agreement_id="00000000-0000-0000-0000-000000000000")
    assert_refused(w, response, 422, field="agreement_id")


def test_another_tenants_agreement_in_the_body_reads_as_unknown(w: World) -> None:
    response = claim(w, agreement_id=w.b.agreement_id)
    assert_refused(w, response, 422, field="agreement_id", says="no agreement")


def test_missing_token_and_bad_token(w: World) -> None:
    assert_refused(w, w.api.get("/claims", None), 401)
    response = w.api.get("/claims", "brg_not-a-token")
    assert_refused(w, response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_if_match_missing_and_stale(w: World) -> None:
    submitted = w.submit(w.a, TODAY)
    w.before = w.events_written()  # type: ignore[attr-defined]
    path = f"/claims/{submitted['id']}/approve"
    assert_refused(w, w.api.post(path, w.a.tokens["approver"], {}), 428)
    stale = w.api.post(path, w.a.tokens["approver"], {}, headers={"If-Match": '"7"'})
    assert_refused(w, stale, 412, says="version 1")
    assert stale.headers["ETag"] == '"1"'


def test_page_size_cap(w: World) -> None:
    response = w.api.get("/claims?limit=100000", w.a.tokens["vcse_member"])
    assert_refused(w, response, 422, field="limit")


def test_bad_cursor(w: World) -> None:
    response = w.api.get("/claims?cursor=!!!", w.a.tokens["vcse_member"])
    assert_refused(w, response, 422, field="cursor")
