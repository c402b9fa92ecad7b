"""Alembic environment for the notifier's database (its own version table, `nf_alembic_version`,
so it can share a PostgreSQL database with the ledger)."""

from __future__ import annotations

import os

from alembic import context

from services.notifier.store.tables import metadata
from shared.migrations import run_environment


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "NOTIFIER_DATABASE_URL"
    )
    if not url:
        raise RuntimeError("no database URL: set NOTIFIER_DATABASE_URL")
    return url


run_environment(metadata, _url, version_table="nf_alembic_version")
