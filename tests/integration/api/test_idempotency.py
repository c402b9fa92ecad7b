"""Idempotency-Key on POST (R5): one execution; the saved answer on a retry; 422 for another
body; 409 while the first is still in flight."""

from __future__ import annotations

import threading

from flask import Flask

from services.ledger.store import idempotency_scope
from services.ledger.store.idempotency import request_fingerprint
from tests.integration.api.conftest import TODAY
from tests.support.world import ApiClient, World


def test_same_key_same_body_gets_the_saved_response(world: World) -> None:
    body = world.claim_body(world.a, TODAY)
    token = world.a.tokens["vcse_member"]
    first = world.api.post("/claims", token, body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    written = world.events_written()
    again = world.api.post("/claims", token, body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert world.events_written() == written


def test_same_key_other_body_is_422(world: World) -> None:
    token = world.a.tokens["vcse_member"]
    world.api.post(
        "/claims", token, world.claim_body(world.a, TODAY), headers={"Idempotency-Key": "k-2"}
    )
    written = world.events_written()
    other = world.claim_body(world.a, TODAY)
    other["lines"][0]["hours"] = "1"
    response = world.api.post("/claims", token, other, headers={"Idempotency-Key": "k-2"})
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("idempotency-key-reused")
    assert world.events_written() == written


def test_keys_are_per_person(world: World) -> None:
    body = world.claim_body(world.a, TODAY)
    first = world.api.post(
        "/claims", world.a.tokens["vcse_member"], body, headers={"Idempotency-Key": "shared"}
    )
    second = world.api.post(
        "/claims", world.a.tokens["vcse_admin"], body, headers={"Idempotency-Key": "shared"}
    )
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]


def test_a_key_in_flight_answers_409(world: World) -> None:
    body = world.claim_body(world.a, TODAY)
    person = world.a.person_ids["vcse_member"]
    scope = idempotency_scope(person, "POST", "/api/v1/claims")
    # Someone else's request holds the key (as a concurrent duplicate would).
    fingerprint = request_fingerprint("POST", "/api/v1/claims", body)
    world.ledger.idempotency.begin(scope, "k-3", fingerprint, 30)
    written = world.events_written()
    response = world.api.post(
        "/claims", world.a.tokens["vcse_member"], body, headers={"Idempotency-Key": "k-3"}
    )
    assert response.status_code == 409
    assert world.events_written() == written


def test_a_refused_command_frees_its_key(world: World) -> None:
    token = world.a.tokens["vcse_member"]
    bad = world.claim_body(world.a, TODAY)
    bad["lines"][0]["hours"] = "1.1"
    assert (
        world.api.post("/claims", token, bad, headers={"Idempotency-Key": "k-4"}).status_code == 422
    )
    good = world.api.post(
        "/claims",
        token,
        bad | {"lines": world.claim_body(world.a, TODAY)["lines"]},
        headers={"Idempotency-Key": "k-4"},
    )
    assert good.status_code == 201


def test_ten_simultaneous_requests_with_one_key_execute_once(app: Flask, world: World) -> None:
    body = world.claim_body(world.a, TODAY)
    token = world.a.tokens["vcse_member"]
    written = world.events_written()
    statuses: list[int] = []
    ids: set[str] = set()
    barrier = threading.Barrier(10)
    lock = threading.Lock()

    def send() -> None:
        client = ApiClient(app.test_client())
        barrier.wait()
        response = client.post("/claims", token, body, headers={"Idempotency-Key": "k-burst"})
        with lock:
            statuses.append(response.status_code)
            if response.status_code == 201:
                ids.add(response.get_json()["id"])

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {201, 409}, statuses
    assert len(ids) == 1, "one execution, and every 201 carries the same claim"
    assert world.events_written() == written + 1
