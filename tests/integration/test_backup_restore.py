"""`bridges db backup` / `bridges db restore`: SQLite (write, back up, destroy, restore, intact)
and PostgreSQL (both services' databases, restored into new databases that both serve)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, func, inspect, select, text, update

from services.cli import main
from services.ledger.api.app import create_app
from services.ledger.store import EventStore, make_engine
from services.ledger.store import upgrade as upgrade_ledger
from services.ledger.store.tables import events
from services.ledger.store.views import claims
from services.notifier.api.app import create_app as create_notifier
from services.notifier.ops import rebuild_from_feed
from services.notifier.runner import raise_alerts_for
from services.notifier.settings import NotifierSettings
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.settings import LedgerSettings
from tests.support.clock import TEST_TODAY, RunningClock
from tests.support.ledger_events import ledger_history
from tests.support.world import ApiClient


def _state(url: str) -> tuple[int, list[tuple[str, str]]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(events)).scalar_one()
        rows = [tuple(r) for r in connection.execute(select(claims.c.id, claims.c.status))]
    engine.dispose()
    return int(count), sorted(rows)  # type: ignore[arg-type]


def test_sqlite_backup_then_restore(sqlite_url: str, tmp_path: Path) -> None:
    ledger_history(sqlite_url, TEST_TODAY - timedelta(days=75))
    before = _state(sqlite_url)
    assert before[0] > 0 and before[1]
    backup = tmp_path / "ledger-backup.db"
    runner = CliRunner()
    made = runner.invoke(main, ["db", "backup", "--out", str(backup), "--database-url", sqlite_url])
    assert made.exit_code == 0, made.output

    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(update(claims).values(status="destroyed"))
        connection.execute(delete(events).where(events.c.global_position > 3))
    engine.dispose()
    assert _state(sqlite_url) != before

    dry = runner.invoke(
        main, ["db", "restore", "--from", str(backup), "--dry-run", "--database-url", sqlite_url]
    )
    assert dry.exit_code == 0 and "dry run" in dry.output
    assert _state(sqlite_url) != before
    done = runner.invoke(
        main, ["db", "restore", "--from", str(backup), "--database-url", sqlite_url]
    )
    assert done.exit_code == 0, done.output
    assert _state(sqlite_url) == before


@pytest.mark.postgres
def test_postgres_backup_restored_into_fresh_databases_serves_both_services(
    postgres_admin_engine: Engine, tmp_path: Path
) -> None:
    """`bridges db backup` and `bridges notifier db backup` (pg_dump -Fc) of databases with
    data, restored (pg_restore) into new, empty databases: the same rows, at head, and both
    services work on the copies (the ledger appends after the restored positions)."""
    admin = postgres_admin_engine
    names = {role: f"bridges_test_backup_{role}_{uuid.uuid4().hex[:8]}" for role in ROLES}
    urls = {role: _url(admin, name) for role, name in names.items()}
    for name in names.values():
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade_ledger(urls["ledger"])
        history = ledger_history(urls["ledger"], TEST_TODAY - timedelta(days=75))
        upgrade_notifier(urls["notifier"])
        ledger_engine = make_engine(urls["ledger"])
        notifier_engine = make_engine(urls["notifier"])
        rebuild_from_feed(
            notifier_engine, EventStore(ledger_engine).read_feed, now=RunningClock(),
            after_batch=raise_alerts_for,
        )  # fmt: skip
        ledger_engine.dispose()
        notifier_engine.dispose()
        tenant = history.world.a
        token = tenant.tokens["vcse_member"]
        alerts_before = _alerts(urls["notifier"], token)
        assert alerts_before

        runner = CliRunner()
        for group, role in ((["db"], "ledger"), (["notifier", "db"], "notifier")):
            dump = tmp_path / f"{role}.dump"
            made = runner.invoke(main, [*group, "backup", "--out", str(dump),
                                        "--database-url", urls[role]])  # fmt: skip
            assert made.exit_code == 0 and "pg_dump" in made.output, made.output
            copy = urls[f"{role}_copy"]
            dry = runner.invoke(main, [*group, "restore", "--from", str(dump), "--dry-run",
                                       "--database-url", copy])  # fmt: skip
            assert dry.exit_code == 0 and "dry run" in dry.output, dry.output
            assert _tables(copy) == set()
            done = runner.invoke(main, [*group, "restore", "--from", str(dump),
                                        "--database-url", copy])  # fmt: skip
            assert done.exit_code == 0, done.output
            checked = runner.invoke(main, [*group, "check", "--database-url", copy])
            assert checked.exit_code == 0, checked.output

        assert _state(urls["ledger_copy"]) == _state(urls["ledger"])
        assert _alerts(urls["notifier_copy"], token) == alerts_before
        app = create_app(LedgerSettings(database_url=urls["ledger_copy"]), testing=True)
        last = EventStore(app.extensions["bridges.ledger"].store.engine).last_position()
        api = ApiClient(app.test_client())
        submitted = api.post("/claims", token, history.world.claim_body(tenant, TEST_TODAY))
        assert submitted.status_code == 201, submitted.get_json()
        assert EventStore(app.extensions["bridges.ledger"].store.engine).last_position() == last + 1
        app.extensions["bridges.ledger"].store.engine.dispose()
    finally:
        for name in names.values():
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


ROLES = ("ledger", "notifier", "ledger_copy", "notifier_copy")


def _url(admin: Engine, name: str) -> str:
    return admin.url.set(database=name).render_as_string(hide_password=False)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _alerts(url: str, token: str) -> list[str]:
    client = create_notifier(
        NotifierSettings(database_url=url), clock=RunningClock(), testing=True
    ).test_client()
    answer = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_json()
    return sorted(item["id"] for item in answer.get_json()["items"])
