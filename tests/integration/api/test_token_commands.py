"""`bridges users tokens rotate|revoke|list` and `bridges keys rotate-token-key`: a revoked
token answers 401 on the ledger's API at once; after a key rotation the notifier accepts the
previous key's tokens until the previous key is removed."""

from __future__ import annotations

import json
from pathlib import Path

from services.ledger.api.app import create_app
from services.ledger.store import EventStore, make_engine
from services.notifier.api.app import create_app as create_notifier
from services.notifier.ops import rebuild_from_feed
from services.notifier.settings import NotifierSettings
from shared.settings import LedgerSettings
from tests.support.cli import bridges, var_dir
from tests.support.clock import RunningClock

__all__ = ["var_dir"]  # a fixture


def create_operator(url: str) -> str:
    created = bridges(
        "users", "create", "--org", "Ops", "--org-kind", "statutory", "--role", "operator",
        "--email", "ops@example.org", "--database-url", url,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    return str(json.loads(created.output)["token"])


def ledger_status(client: object, token: str) -> int:
    response = client.get(  # type: ignore[attr-defined]
        "/api/v1/events?after=0&limit=1", headers={"Authorization": f"Bearer {token}"}
    )
    return int(response.status_code)


def test_rotate_and_revoke_answer_401_at_once_on_the_ledger(sqlite_url: str, var_dir: Path) -> None:
    first = create_operator(sqlite_url)
    client = create_app(
        LedgerSettings(database_url=sqlite_url, var_dir=str(var_dir)),
        clock=RunningClock(),
        testing=True,
    ).test_client()
    assert ledger_status(client, first) == 200

    dry = bridges("users", "tokens", "rotate", "--email", "ops@example.org", "--dry-run",
                  "--database-url", sqlite_url)  # fmt: skip
    assert dry.exit_code == 0 and "dry run" in dry.output, dry.output
    assert ledger_status(client, first) == 200

    rotated = bridges("users", "tokens", "rotate", "--email", "OPS@example.org",
                      "--database-url", sqlite_url)  # fmt: skip
    assert rotated.exit_code == 0, rotated.output
    second = json.loads(rotated.output)["token"]
    assert len(json.loads(rotated.output)["revoked"]) == 1
    assert ledger_status(client, first) == 401
    assert ledger_status(client, second) == 200

    listed = json.loads(
        bridges(
            "users", "tokens", "list", "--email", "ops@example.org", "--database-url", sqlite_url
        ).output  # fmt: skip
    )
    live = [row["token_id"] for row in listed if row["revoked_at"] is None]
    assert len(listed) == 2 and len(live) == 1
    dry = bridges("users", "tokens", "revoke", "--token-id", live[0], "--dry-run",
                  "--database-url", sqlite_url)  # fmt: skip
    assert dry.exit_code == 0 and live[0] in dry.output, dry.output
    assert ledger_status(client, second) == 200
    revoked = bridges("users", "tokens", "revoke", "--token-id", live[0],
                      "--database-url", sqlite_url)  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    assert ledger_status(client, second) == 401
    assert bridges("users", "tokens", "revoke", "--database-url", sqlite_url).exit_code != 0


def test_token_key_rotation_has_a_grace_period_on_the_notifier(
    sqlite_url: str, notifier_url: str, var_dir: Path
) -> None:
    old = create_operator(sqlite_url)
    ledger_engine = make_engine(sqlite_url)
    rebuild_from_feed(make_engine(notifier_url), EventStore(ledger_engine).read_feed,
                      now=RunningClock())  # fmt: skip

    def notifier_status(token: str) -> int:
        client = create_notifier(
            NotifierSettings(database_url=notifier_url),
            clock=RunningClock(),
            testing=True,
            var_dir=var_dir,
        ).test_client()
        return int(
            client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}).status_code
        )

    assert notifier_status(old) != 401
    key_before = (var_dir / "token_key").read_bytes()
    dry = bridges("keys", "rotate-token-key", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.output
    assert (var_dir / "token_key").read_bytes() == key_before
    rotated = bridges("keys", "rotate-token-key")
    assert rotated.exit_code == 0, rotated.output
    assert (var_dir / "token_key").read_bytes() != key_before
    assert (var_dir / "token_key.previous").read_bytes() == key_before

    assert notifier_status(old) != 401, "the previous key's tokens work in the grace period"
    reissued = bridges("users", "tokens", "rotate", "--email", "ops@example.org",
                       "--database-url", sqlite_url)  # fmt: skip
    new = json.loads(reissued.output)["token"]
    assert notifier_status(new) != 401
    (var_dir / "token_key.previous").unlink()  # the grace period ends
    assert notifier_status(old) == 401
    assert notifier_status(new) != 401
    ledger_engine.dispose()
