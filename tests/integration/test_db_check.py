"""`bridges db check` and `bridges notifier db check`: is a database at head, for deploy pipelines.

Exit 0 and "at head", else exit 1 naming the revision it is at and head, or 3 when the database
does not answer; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from services.cli import main
from services.ledger.store.migrate import MIGRATIONS_DIR as LEDGER_MIGRATIONS
from services.ledger.store.migrate import upgrade as upgrade_ledger
from services.notifier.store.migrate import MIGRATIONS_DIR as NOTIFIER_MIGRATIONS
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.migrations import head_revision
from shared.sql import make_engine


@dataclass(frozen=True)
class Service:
    name: str
    command: tuple[str, ...]
    version_table: str
    head: str

    def check(self, url: str) -> Result:
        return CliRunner().invoke(main, [*self.command, "--database-url", url])

    def upgrade(self, url: str) -> None:
        (upgrade_ledger if self.name == "ledger" else upgrade_notifier)(url)


LEDGER = Service("ledger", ("db", "check"), "alembic_version", head_revision(LEDGER_MIGRATIONS))
NOTIFIER = Service(
    "notifier",
    ("notifier", "db", "check"),
    "nf_alembic_version",
    head_revision(NOTIFIER_MIGRATIONS),
)


@pytest.fixture(params=[LEDGER, NOTIFIER], ids=lambda service: service.name)
def service(request: pytest.FixtureRequest) -> Service:
    return request.param  # type: ignore[no-any-return]


def test_a_database_at_head_passes(service: Service, empty_database_url: str) -> None:
    service.upgrade(empty_database_url)

    result = service.check(empty_database_url)

    assert result.exit_code == 0, result.output
    assert f"{service.name} database" in result.output
    assert f"is at head ({service.head})" in result.output


def test_a_database_never_migrated_fails_and_names_head(
    service: Service, empty_database_url: str
) -> None:
    engine = make_engine(empty_database_url)  # a database with no tables (SQLite: an empty file)
    with engine.connect():
        pass
    engine.dispose()

    result = service.check(empty_database_url)

    assert result.exit_code == 1
    assert f"is not migrated (no revision; head is {service.head})" in result.output


def test_a_database_behind_head_says_where_it_is(empty_database_url: str) -> None:
    upgrade_ledger(empty_database_url, "0001")

    result = LEDGER.check(empty_database_url)

    assert result.exit_code == 1
    assert f"is at revision 0001, behind head {LEDGER.head}" in result.output


def test_a_database_migrated_by_a_newer_release_fails(
    service: Service, empty_database_url: str
) -> None:
    service.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {service.version_table} SET version_num = '9999'"))
    finally:
        engine.dispose()

    result = service.check(empty_database_url)

    assert result.exit_code == 1
    assert f"is at revision 9999, unknown to this version of Bridges (head is {service.head})" in (
        result.output
    )


def test_a_missing_sqlite_database_does_not_answer(service: Service, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite'}"

    result = service.check(url)

    assert result.exit_code == 3
    assert "does not answer: no such file" in result.output
    assert not (tmp_path / "no-such-dir").exists()  # checking never creates it


@pytest.mark.postgres
def test_a_missing_postgres_database_does_not_answer_and_hides_the_password(
    service: Service, empty_postgres_url: str
) -> None:
    url = empty_postgres_url.rsplit("/", 1)[0] + "/bridges_no_such_database"

    result = service.check(url)

    assert result.exit_code == 3
    assert "does not answer" in result.output
    assert "bridges_no_such_database" in result.output
    assert ":bridges@" not in result.output  # the password is not printed
