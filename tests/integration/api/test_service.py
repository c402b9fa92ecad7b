"""The service around the API: the committed OpenAPI contract, operations endpoints, security
headers, the ordered event feed, balances as at a date, paging."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from flask import Flask

from services.ledger.api.openapi import openapi_document
from tests.integration.api.conftest import TODAY
from tests.support.clock import MovableClock
from tests.support.world import World

OPENAPI_FILE = Path(__file__).resolve().parents[3] / "services" / "ledger" / "openapi.json"


def test_committed_openapi_matches_the_code() -> None:
    committed = json.loads(OPENAPI_FILE.read_text())
    assert committed == openapi_document(), (
        "services/ledger/openapi.json is out of date: run `make openapi` and review the diff"
    )


def test_openapi_is_served_and_documents_every_route(app: Flask) -> None:
    client = app.test_client()
    document = client.get("/openapi.json").get_json()
    paths = document["paths"]
    for path in (
        "/api/v1/organisations",
        "/api/v1/organisations/{organisation_id}/people",
        "/api/v1/partnerships",
        "/api/v1/partnerships/{partnership_id}/agreements",
        "/api/v1/partnerships/{partnership_id}/balances",
        "/api/v1/claims",
        "/api/v1/claims/{claim_id}",
        "/api/v1/claims/{claim_id}/history",
        "/api/v1/claims/{claim_id}/approve",
        "/api/v1/claims/{claim_id}/query",
        "/api/v1/claims/{claim_id}/answer",
        "/api/v1/claims/{claim_id}/reject",
        "/api/v1/claims/{claim_id}/withdraw",
        "/api/v1/payments",
        "/api/v1/payments/{payment_id}/reverse",
        "/api/v1/events",
    ):
        assert path in paths, path
    assert client.get("/docs").status_code == 200


def test_health_readiness_metrics_and_security_headers(app: Flask, world: World) -> None:
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "bridges_ledger_http_requests_total" in metrics
    response = world.api.get("/claims", world.a.tokens["vcse_member"])
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert client.get("/no-such-page").mimetype == "application/problem+json"


def test_the_event_feed_pages_in_order_for_operators(world: World) -> None:
    for _ in range(3):
        world.submit(world.a, TODAY)
    token = world.operator_token
    seen: list[int] = []
    after = 0
    while True:
        page = world.api.ok("GET", f"/events?after={after}&limit=7", token)
        if not page["events"]:
            assert page["next_after"] == after
            break
        seen.extend(e["global_position"] for e in page["events"])
        after = page["next_after"]
    assert seen == list(range(1, world.events_written() + 1))
    last = world.api.ok("GET", f"/events?after={seen[-2]}&limit=1", token)["events"][0]
    assert last["type"] == "ClaimSubmitted"
    assert last["stream_id"].startswith("claim-")
    assert last["partition_key"] == world.a.partnership_id
    assert set(last) >= {"event_id", "occurred_at", "actor", "stream_version", "data"}
    # A cursor must be a position the feed gave out: nowhere in the feed's order otherwise.
    response = world.api.get(f"/events?after={seen[-1] + 1000}&limit=1", token)
    assert response.status_code == 422, response.get_json()


def test_balances_as_at_a_date_with_aging(world: World, clock: MovableClock) -> None:
    a = world.a
    approved = world.act(a, world.submit(a, TODAY), "approve", "approver")
    waiting = world.submit(a, TODAY)
    clock.advance(45)
    world.pay(a, approved, 4000, clock.today())
    path = f"/partnerships/{a.partnership_id}/balances"
    token = a.tokens["partner_viewer"]

    (today_row,) = world.api.ok("GET", f"{path}?as_at={TODAY.isoformat()}", token)["organisations"]
    assert today_row["claimed_pence"] == approved["amount_pence"] + waiting["amount_pence"]
    assert today_row["paid_pence"] == 0
    assert today_row["overdue_pence"] == 0
    assert today_row["aging"]["not_due"] == today_row["claimed_pence"]

    later = (TODAY + timedelta(days=45)).isoformat()
    (later_row,) = world.api.ok("GET", f"{path}?as_at={later}", token)["organisations"]
    outstanding = approved["amount_pence"] - 4000
    assert later_row["paid_pence"] == 4000
    assert later_row["outstanding_pence"] == outstanding
    # Both the unpaid part and the claim never approved are 15 days past due.
    assert later_row["overdue_pence"] == outstanding + waiting["amount_pence"]
    assert later_row["aging"]["1-30"] == outstanding + waiting["amount_pence"]

    # The VCSE sees its own row; the other tenant sees nothing of it.
    assert (
        world.api.ok("GET", path, a.tokens["vcse_member"])["organisations"][0]["organisation_id"]
        == a.payee_id
    )
    assert world.api.get(path, world.b.tokens["partner_viewer"]).status_code == 404


def test_cursor_paging_walks_every_claim_once(world: World) -> None:
    created = {world.submit(world.a, TODAY)["id"] for _ in range(5)}
    token = world.a.tokens["approver"]
    seen: list[str] = []
    cursor = None
    while True:
        query = "/claims?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = world.api.ok("GET", query, token)
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == created
    filtered = world.api.ok("GET", "/claims?status=approved", token)
    assert filtered["items"] == []


def test_a_request_id_becomes_the_events_correlation_id(world: World) -> None:
    response = world.api.post(
        "/claims",
        world.a.tokens["vcse_member"],
        world.claim_body(world.a, TODAY),
        headers={"X-Request-ID": "support-call-42"},
    )
    assert response.headers["X-Request-ID"] == "support-call-42"
    history = world.api.ok(
        "GET", f"/claims/{response.get_json()['id']}/history", world.a.tokens["vcse_member"]
    )
    assert history["events"][0]["correlation_id"] == "support-call-42"
    generated = world.api.get("/claims", world.a.tokens["vcse_member"]).headers["X-Request-ID"]
    assert len(generated) == 32
