"""The hostile text that breaks a real database (NUL cannot be stored in PostgreSQL text), sent
to every free-text field, query parameter and path parameter on SQLite and PostgreSQL: refused
before it reaches the database, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from services.ledger.api.app import create_app
from shared.settings import LedgerSettings
from tests.integration.api.conftest import TODAY
from tests.integration.api.test_bad_input import assert_refused
from tests.integration.api.test_hostile_input import FIELDS, _send
from tests.support.clock import MovableClock
from tests.support.world import World


@pytest.fixture
def app(database_url: str, clock: MovableClock) -> Flask:
    return create_app(LedgerSettings(database_url=database_url), clock=clock, testing=True)


@pytest.fixture
def w(world: World) -> Iterator[World]:
    yield world
    assert world.api.client.get("/healthz").status_code == 200


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_nul_in_every_free_text_field(w: World, name: str) -> None:
    response, field = _send(w, name, "Amina\x00Khan")
    assert_refused(w, response, 422, field=field, says="U+0000")
    assert w.events_written() == w.before  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["partnership_id", "agreement_id", "cursor"])
def test_nul_in_a_query_parameter(w: World, name: str) -> None:
    response = w.api.get("/claims", w.a.tokens["vcse_member"], query_string={name: "x\x00"})
    assert_refused(w, response, 422, field=name, says="U+0000")


@pytest.mark.parametrize(
    "path",
    [
        "/claims/bad%00id",
        "/claims/bad%00id/history",
        "/partnerships/bad%00id/balances",
        "/organisations/bad%00id/people",
    ],
)
def test_nul_in_a_path_parameter_is_not_found(w: World, path: str) -> None:
    response = w.api.get(path, w.a.tokens["vcse_member"])
    if path.endswith("/people"):
        response = w.api.post(
            path, w.operator_token, {"name": "A", "email": "a@b.example", "roles": ["vcse_member"]}
        )
    assert_refused(w, response, 404)


def test_a_control_character_in_the_idempotency_key_is_refused(w: World) -> None:
    before = w.events_written()
    body = w.claim_body(w.a, TODAY)
    for key in ("key\x00one", "key\x1bone"):
        response = w.api.post(
            "/claims", w.a.tokens["vcse_member"], body, headers={"Idempotency-Key": key}
        )
        assert_refused(w, response, 400, says="Idempotency-Key")
    assert w.events_written() == before
