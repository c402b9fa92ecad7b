"""Alembic environment for the notifier's database (its own version table, `nf_alembic_version`,
so it can share a PostgreSQL database with the ledger)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from services.notifier.store.tables import metadata
from shared.migrations import migration_connection
from shared.sql import make_engine

VERSION_TABLE = "nf_alembic_version"
config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("NOTIFIER_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set NOTIFIER_DATABASE_URL")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with migration_connection(engine) as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=_url(), target_metadata=metadata, literal_binds=True, version_table=VERSION_TABLE
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
