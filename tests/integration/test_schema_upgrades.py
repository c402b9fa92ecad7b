"""Upgrading real databases: both services' migrations, one revision at a time from the first to
head, end exactly at the SQLAlchemy models; a database at the previous head, holding data,
upgrades to head with every row intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, select

import services.ledger.store.views  # noqa: F401  (all tables on the metadata, whatever ran first)
from services.ledger.store import EventStore
from services.ledger.store import metadata as ledger_metadata
from services.ledger.store.migrate import MIGRATIONS_DIR as LEDGER_MIGRATIONS
from services.notifier.store.migrate import MIGRATIONS_DIR as NOTIFIER_MIGRATIONS
from services.notifier.store.migrate import VERSION_TABLE as NOTIFIER_VERSION_TABLE
from services.notifier.store.tables import metadata as notifier_metadata
from shared import migrations
from shared.events.envelope import NewEvent
from shared.sql import make_engine

SERVICES = [
    pytest.param(
        (LEDGER_MIGRATIONS, "alembic_version", ledger_metadata),
        id="ledger",
        marks=pytest.mark.postgres,
    ),
    pytest.param(
        (NOTIFIER_MIGRATIONS, NOTIFIER_VERSION_TABLE, notifier_metadata),
        id="notifier",
        marks=pytest.mark.postgres,
    ),
]


def revisions_in_order(migrations_dir: Path) -> list[str]:
    script = ScriptDirectory.from_config(migrations.alembic_config(migrations_dir))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


@pytest.mark.parametrize("service", SERVICES)
def test_upgrading_one_revision_at_a_time_from_the_first_ends_at_the_models(
    service: tuple[Path, str, MetaData], empty_postgres_url: str
) -> None:
    migrations_dir, version_table, metadata = service
    revisions = revisions_in_order(migrations_dir)
    assert revisions[-1] == migrations.head_revision(migrations_dir)

    for revision in revisions:
        migrations.upgrade(migrations_dir, empty_postgres_url, revision)
        assert migrations.current_revision(empty_postgres_url, version_table) == revision, (
            f"not at {revision} after upgrading to it"
        )

    engine = make_engine(empty_postgres_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": version_table}
            )
            assert compare_metadata(context, metadata) == []
            assert migrations.schema_state(migrations_dir, connection, version_table).at_head
    finally:
        engine.dispose()


def all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        reflected = MetaData()
        reflected.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted(connection.execute(select(table)).all(), key=repr)
                for name, table in reflected.tables.items()
                if name != "alembic_version"
            }
    finally:
        engine.dispose()


def test_a_ledger_at_the_previous_head_keeps_its_data_through_the_upgrade(
    empty_database_url: str,
) -> None:
    revisions = revisions_in_order(LEDGER_MIGRATIONS)
    previous = revisions[-2]
    migrations.upgrade(LEDGER_MIGRATIONS, empty_database_url, previous)
    engine = make_engine(empty_database_url)
    try:
        store = EventStore(engine)
        for n in range(3):
            with store.unit_of_work() as uow:
                uow.append(
                    f"claim-{n}",
                    0,
                    [NewEvent("ClaimSubmitted", {"n": n}), NewEvent("ClaimApproved", {"n": n})],
                    partition_key=f"partnership-{n % 2}",
                )
        assert store.last_position() == 6
    finally:
        engine.dispose()
    before = all_rows(empty_database_url)
    assert len(before["events"]) == 6

    migrations.upgrade(LEDGER_MIGRATIONS, empty_database_url)

    after = all_rows(empty_database_url)
    # Every row kept, with every value it had (a column the upgrade adds is appended).
    assert {
        name: [row[: len(before[name][0])] if before[name] else row for row in after[name]]
        for name in before
    } == before
    assert migrations.current_revision(empty_database_url) == revisions[-1]
