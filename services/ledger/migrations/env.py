"""Alembic environment for the ledger database.

The URL comes from the Alembic config (`sqlalchemy.url`), else `DATABASE_URL`, else the embedded
default. `services.ledger.store.migrate.upgrade` passes an open connection in
`config.attributes["connection"]` instead.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

# Every module that declares tables on the metadata, so autogenerate sees them all.
import services.ledger.store.tables
import services.ledger.store.views  # noqa: F401
from services.ledger.store.engine import DEFAULT_DATABASE_URL, make_engine
from services.ledger.store.metadata import metadata
from services.ledger.store.migrate import migration_connection

config = context.config


def _url() -> str:
    return (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
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


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
