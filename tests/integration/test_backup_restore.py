"""`bridges db backup` / `bridges db restore` (SQLite): write, back up, destroy, restore, intact."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from services.cli import main
from services.ledger.store import make_engine
from services.ledger.store.tables import events
from services.ledger.store.views import claims
from tests.support.clock import TEST_TODAY
from tests.support.ledger_events import ledger_history


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
