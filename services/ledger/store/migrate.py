"""Schema migrations of the ledger, run programmatically: `upgrade(url)` brings a database to
the head revision of `services/ledger/migrations` (see `shared/migrations.py`)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from shared import migrations
from shared.migrations import SchemaState, migration_connection

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "check",
    "current_revision",
    "migration_connection",
    "upgrade",
]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the ledger's migrations, optionally bound to `url`."""
    return migrations.alembic_config(MIGRATIONS_DIR, url)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the ledger database at `url` up to `revision`, in one transaction."""
    migrations.upgrade(MIGRATIONS_DIR, url, revision)


def current_revision(url: str) -> str | None:
    """The revision the ledger database at `url` is at: None if it was never migrated."""
    return migrations.current_revision(url)


def check(url: str) -> SchemaState:
    """Where the ledger database at `url` is, compared with the newest migration."""
    return migrations.check(MIGRATIONS_DIR, url)
