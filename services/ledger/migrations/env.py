"""Alembic environment for the ledger database.

The URL comes from the Alembic config (`sqlalchemy.url`), else `DATABASE_URL`, else the embedded
default. `services.ledger.store.migrate.upgrade` passes an open connection in
`config.attributes["connection"]` instead.
"""

from __future__ import annotations

import os

from alembic import context

# Every module that declares tables on the metadata, so autogenerate sees them all.
import services.ledger.store.tables
import services.ledger.store.views  # noqa: F401
from services.ledger.store.engine import DEFAULT_DATABASE_URL
from services.ledger.store.metadata import metadata
from shared.migrations import run_environment


def _url() -> str:
    return (
        context.config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


run_environment(metadata, _url)
