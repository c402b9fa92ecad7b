"""A token revoked on the ledger stops working on the notifier as soon as the revocation has
travelled ledger → relay → Kafka → consumer (an `ApiTokensRevoked` event, written in the same
transaction as the revocation): before, the notifier checked only the signature and a revoked
token kept working there until the token key was rotated."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from services.notifier.api.app import create_app as create_notifier
from services.notifier.settings import NotifierSettings
from services.notifier.store.tables import revoked_tokens
from shared.settings import KafkaSettings
from shared.sql import make_engine
from shared.tokens import hash_token
from tests.support.cli import bridges, var_dir
from tests.support.clock import RunningClock
from tests.support.kafka import running_relay
from tests.support.notifier_run import consume_all

__all__ = ["var_dir"]  # a fixture


def test_a_revoked_token_is_refused_by_the_notifier(
    sqlite_url: str,
    notifier_url: str,
    var_dir: Path,
    kafka_settings: KafkaSettings,
    events_topic: str,
) -> None:
    created = bridges(
        "users", "create", "--org", "Ops", "--org-kind", "statutory", "--role", "operator",
        "--email", "ops@example.org", "--database-url", sqlite_url,
    )  # fmt: skip
    first = json.loads(created.output)["token"]
    notifier_engine = make_engine(notifier_url)
    client = create_notifier(
        NotifierSettings(database_url=notifier_url),
        clock=RunningClock(),
        testing=True,
        var_dir=var_dir,
    ).test_client()

    def answer(token: str) -> tuple[int, str]:
        """(401, why) when the notifier refuses the token, else (0, "") (an operator may not
        read alerts: 403, but the token was accepted)."""
        response = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 401:
            return 0, ""
        return 401, str(response.get_json()["detail"])

    def deliver() -> None:
        with running_relay(sqlite_url, kafka_settings) as relay:
            relay.wait_caught_up()
        consume_all(notifier_engine, kafka_settings, group="notifier")

    deliver()
    assert answer(first) == (0, "")

    rotated = bridges("users", "tokens", "rotate", "--email", "ops@example.org",
                      "--database-url", sqlite_url)  # fmt: skip
    second = json.loads(rotated.output)["token"]
    assert json.loads(rotated.output)["revoked"] == [hash_token(first)[:12]]
    deliver()
    assert answer(first) == (401, "the API token was revoked: ask for a new one")
    assert answer(second) == (0, "")

    dry = bridges("users", "tokens", "revoke", "--email", "ops@example.org", "--dry-run",
                  "--database-url", sqlite_url)  # fmt: skip
    assert dry.exit_code == 0 and "dry run" in dry.output
    deliver()
    assert answer(second) == (0, ""), "a dry run announces nothing"

    revoked = bridges("users", "tokens", "revoke", "--email", "ops@example.org",
                      "--database-url", sqlite_url)  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    deliver()
    assert answer(second)[0] == 401
    with notifier_engine.connect() as connection:
        digests = set(connection.execute(select(revoked_tokens.c.token_digest)).scalars())
    assert digests == {hash_token(first), hash_token(second)}
    notifier_engine.dispose()
