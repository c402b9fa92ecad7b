"""Hostile input to the notifier API: JSON nested too deep or not UTF-8, text the product does
not accept (shared/text.py) in the subscription target and the query and path parameters.
Each is refused with a problem naming the field, nothing is written, the service stays up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, insert, select

from services.notifier.api.app import create_app
from services.notifier.settings import NotifierSettings
from services.notifier.store.tables import organisations, people, subscriptions
from shared.http import MAX_JSON_DEPTH
from shared.sql import begin_write
from shared.tokens import issue_token, token_key

PROBLEM = "application/problem+json"
ORG = "11111111-1111-1111-1111-111111111111"
ADMIN = "22222222-2222-2222-2222-222222222222"


@pytest.fixture
def client(notifier_url: str, notifier_engine: Engine, tmp_path: Path) -> Any:
    with begin_write(notifier_engine) as connection:
        connection.execute(insert(organisations).values(id=ORG, name="Hope Street", kind="vcse"))
        connection.execute(
            insert(people).values(
                id=ADMIN,
                organisation_id=ORG,
                name="Asha Admin",
                email="asha@hope.example",
                roles=["vcse_admin"],
            )
        )
    app = create_app(NotifierSettings(database_url=notifier_url), testing=True, var_dir=tmp_path)
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = (
        f"Bearer {issue_token(ADMIN, token_key(tmp_path))}"
    )
    yield test_client
    assert test_client.get("/healthz").status_code == 200
    with notifier_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(subscriptions)).scalar() == 0


def refused(response: Any, status: int, field: str | None = None, says: str = "") -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["status"] == status and problem["detail"]
    if field is not None:
        assert field in problem["errors"], problem
        assert any(says in m for m in problem["errors"][field]), problem
    else:
        assert says in problem["detail"], problem
    return problem


def _raw(client: FlaskClient, data: bytes) -> Any:
    return client.post("/api/v1/subscriptions", data=data, content_type="application/json")


def test_deeply_nested_json_is_refused(client: FlaskClient) -> None:
    refused(_raw(client, b"[" * 10_000), 400, says=f"more than {MAX_JSON_DEPTH} levels deep")
    refused(_raw(client, b'{"a":' * 10_000), 400, says="levels deep")


def test_a_body_that_is_not_utf8_is_refused(client: FlaskClient) -> None:
    refused(_raw(client, b'{"channel": "email", "target": "\xff@x.example"}'), 400, says="UTF-8")


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("asha\x00@hope.example", "U+0000"),
        ("asha\ud800@hope.example", "lone surrogate"),
        ("asha\x1b@hope.example", "U+001B"),
        ("asha\x7f@hope.example", "U+007F"),
        ("asha\x85@hope.example", "U+0085"),
        ("asha\x9b@hope.example", "U+009B"),
        ("asha\u202e@hope.example", "U+202E"),
        ("asha@hope.example\n", "single line"),
        ("asha@hope\t.example", "single line"),
        ("a" * 3000 + "@hope.example", "Length"),
        (12345, "string"),
    ],
)
def test_a_subscription_target_that_is_not_text_is_refused(
    client: FlaskClient, target: Any, says: str
) -> None:
    response = client.post("/api/v1/subscriptions", json={"channel": "email", "target": target})
    problem = refused(response, 422, "target")
    if says != "Length":
        assert any(says in m for m in problem["errors"]["target"]), problem


@pytest.mark.parametrize("name", ["partnership_id", "claim_id", "cursor"])
def test_query_parameters_that_are_not_text_are_refused(client: FlaskClient, name: str) -> None:
    response = client.get("/api/v1/alerts", query_string={name: "x\x00y"})
    refused(response, 422, name, says="U+0000")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/indicators/organisations/x%00y",
        "/api/v1/statements/p%00/q/r",
    ],
)
def test_path_parameters_that_are_not_text_are_not_found(client: FlaskClient, path: str) -> None:
    refused(client.get(path), 404)


def test_acknowledging_an_alert_with_a_nul_id_is_not_found(client: FlaskClient) -> None:
    refused(client.post("/api/v1/alerts/x%00y/acknowledge"), 404)
