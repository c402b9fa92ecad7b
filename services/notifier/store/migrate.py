"""`upgrade(url)`: bring the notifier's database to the newest migration; `check(url)`: is it
there? (The notifier keeps its own version table, so it can share a database with the ledger.)"""

from __future__ import annotations

from pathlib import Path

from shared import migrations
from shared.migrations import SchemaState

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "nf_alembic_version"


def upgrade(url: str, revision: str = "head") -> None:
    migrations.upgrade(MIGRATIONS_DIR, url, revision)


def check(url: str) -> SchemaState:
    """Where the notifier database at `url` is, compared with the newest migration."""
    return migrations.check(MIGRATIONS_DIR, url, VERSION_TABLE)
