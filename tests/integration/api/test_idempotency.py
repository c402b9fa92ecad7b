"""Idempotency-Key on POST (R5): one execution; the saved answer on a retry; 422 for another
body; 409 while a concurrent duplicate holds the key; a crash
leaves the key free at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading

import pytest
from flask import Flask
from sqlalchemy import text

from services.ledger.api.app import create_app
from services.ledger.store import idempotency_scope
from services.ledger.store.idempotency import key_lock_id
from shared.settings import LedgerSettings
from tests.integration.api.conftest import TODAY
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, World, build_world


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


@pytest.mark.postgres
def test_a_key_in_flight_answers_409(postgres_url: str, clock: MovableClock) -> None:
    """On PostgreSQL a concurrent duplicate is refused at once: another transaction holds the
    key's advisory lock (as the first request does until it commits)."""
    app = create_app(LedgerSettings(database_url=postgres_url), clock=clock, testing=True)
    world = build_world(ApiClient(app.test_client()), app.extensions["bridges.ledger"], TODAY)
    body = world.claim_body(world.a, TODAY)
    person = world.a.person_ids["vcse_member"]
    scope = idempotency_scope(person, "POST", "/api/v1/claims")
    written = world.events_written()
    engine = world.ledger.store.engine
    with engine.connect() as holder, holder.begin():
        # Someone else's request holds the key (as a concurrent duplicate would).
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key_lock_id(scope, "k-3")})
        response = world.api.post(
            "/claims", world.a.tokens["vcse_member"], body, headers={"Idempotency-Key": "k-3"}
        )
        assert response.status_code == 409
        assert response.headers["Retry-After"] == "1"
    assert world.events_written() == written
    # The holder finished without completing (it failed): the retry runs at once.
    retry = world.api.post(
        "/claims", world.a.tokens["vcse_member"], body, headers={"Idempotency-Key": "k-3"}
    )
    assert retry.status_code == 201
    assert world.events_written() == written + 1


def test_a_retry_after_a_crash_mid_command_runs_at_once(world: World, sqlite_url: str) -> None:
    """A worker process that was running a keyed POST /claims dies before commit (os._exit,
    as under kill -9): the retry is answered at once with a new claim, then replayed."""
    body = world.claim_body(world.a, TODAY)
    token = world.a.tokens["vcse_member"]
    child = textwrap.dedent(
        """
        import json, os, sys
        from services.ledger.api.app import create_app
        from services.ledger.application import Ledger
        from shared.settings import LedgerSettings
        from tests.support.clock import MovableClock
        from tests.support.world import ApiClient

        url, token, body, today = sys.argv[1:5]
        original = Ledger.submit_claim

        def submit_then_die(self, uow, principal, data):
            result = original(self, uow, principal, data)
            print("mid-command", flush=True)
            os._exit(137)

        Ledger.submit_claim = submit_then_die
        from datetime import date
        clock = MovableClock(date.fromisoformat(today))
        app = create_app(LedgerSettings(database_url=url), clock=clock, testing=True)
        ApiClient(app.test_client()).post(
            "/claims", token, json.loads(body), headers={"Idempotency-Key": "k-crash"}
        )
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child, sqlite_url, token, json.dumps(body), TODAY.isoformat()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 137, done.stderr
    assert done.stdout.strip() == "mid-command"
    written = world.events_written()

    retry = world.api.post("/claims", token, body, headers={"Idempotency-Key": "k-crash"})
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    again = world.api.post("/claims", token, body, headers={"Idempotency-Key": "k-crash"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == retry.get_json()["id"]
    assert world.events_written() == written + 1


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
