"""Migrations: from an empty database to head, on both backends, and in step with the tables."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import services.ledger.store.views  # noqa: F401  (all tables on the metadata, whatever ran first)
from services.ledger.store import EventStore, make_engine, metadata, upgrade
from services.ledger.store.migrate import alembic_config, current_revision
from shared.events.envelope import NewEvent

STORE_TABLES = {"events", "idempotency_keys", "relay_progress"}


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_takes_an_empty_database_to_head(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None

    upgrade(empty_database_url)

    assert current_revision(empty_database_url) == head()
    assert table_names(empty_database_url) >= STORE_TABLES
    engine = make_engine(empty_database_url)
    try:
        store = EventStore(engine)
        with store.unit_of_work() as uow:
            uow.append("s", 0, [NewEvent("ClaimSubmitted", {})], partition_key="p")
        assert store.last_position() == 1
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url, "head")
    assert current_revision(database_url) == head()


def test_the_migrated_schema_matches_the_table_definitions(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back_through_alembic_commands(empty_database_url: str) -> None:
    """Alembic's own commands (env.py opening its own connection from the configured URL)."""
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    assert table_names(empty_database_url) >= STORE_TABLES
    command.downgrade(config, "base")
    assert table_names(empty_database_url).isdisjoint(STORE_TABLES)
    command.upgrade(config, "head")
    assert current_revision(empty_database_url) == head()


def test_env_falls_back_to_database_url(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    command.upgrade(alembic_config(), "head")
    assert current_revision(empty_database_url) == head()


def test_concurrent_upgrades_queue_and_all_succeed(empty_database_url: str) -> None:
    barrier = threading.Barrier(8, timeout=10)

    def migrate(_: int) -> None:
        barrier.wait()
        upgrade(empty_database_url)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(migrate, range(8)))
    assert current_revision(empty_database_url) == head()


def test_offline_mode_renders_sql(capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(alembic_config("postgresql+psycopg://u@localhost/db"), "head", sql=True)
    assert "CREATE TABLE events" in capsys.readouterr().out


def test_an_old_release_writer_that_began_before_0009_is_not_sorted_before_history(
    empty_postgres_url: str,
) -> None:
    """A writer of the release before 0009 whose transaction id was drawn before the migration
    (it wrote something else first) and that appends after it must come after the history in
    the feed, not before it (where a caught-up reader would never be served it)."""
    upgrade(empty_postgres_url, "0008")
    engine = make_engine(empty_postgres_url)
    try:
        store = EventStore(engine)
        with store.unit_of_work() as uow:
            (old,) = uow.append("s", 0, [NewEvent("ClaimSubmitted", {})], partition_key="p")
        with engine.connect() as writer:
            writer.exec_driver_sql("SELECT pg_current_xact_id()")  # its id, before the ALTER
            upgrade(empty_postgres_url)
            writer.exec_driver_sql(
                "INSERT INTO events (event_id, stream_id, stream_version, type, schema_version,"
                " partition_key, occurred_at, data) VALUES ('00000000-0000-0000-0000-000000000001',"
                " 's', 2, 'ClaimSubmitted', 1, 'p', now(), '{}')"
            )
            writer.commit()
        assert [e.stream_version for e in store.read_feed(old.global_position, 10)] == [2]
        assert [e.stream_version for e in store.read_feed(0, 10)] == [1, 2]
    finally:
        engine.dispose()
