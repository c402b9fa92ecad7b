"""`upgrade(url)`: bring the notifier's database to the newest migration."""

from __future__ import annotations

from pathlib import Path

from shared import migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def upgrade(url: str, revision: str = "head") -> None:
    migrations.upgrade(MIGRATIONS_DIR, url, revision)
