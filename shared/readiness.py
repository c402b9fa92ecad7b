"""What `/readyz` checks, with the reason an operator reads when it fails.

A service is ready when its database answers and its schema is at the head of its migrations,
or at a revision newer than this code knows: during a rolling upgrade the new release migrates
first (migrations only add, see docs), and the old processes must keep serving meanwhile. A
database behind head, or never migrated, is not ready: `bridges db upgrade` has not run.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from shared.migrations import schema_state


class NotReady(Exception):
    """Raised by a readiness check; its message is the reason `/readyz` gives."""


def check_database(
    engine: Engine, migrations_dir: Path, version_table: str = "alembic_version"
) -> None:
    """Raise `NotReady` unless the database answers and its schema is at (or past) head."""
    try:
        with engine.connect() as connection:
            state = schema_state(migrations_dir, connection, version_table)
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise NotReady(f"the database does not answer ({type(cause).__name__})") from error
    if state.current is None or (state.known and not state.at_head):
        raise NotReady(f"the database is {state.describe()}: run the migrations")
