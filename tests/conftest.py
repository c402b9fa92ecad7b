"""Shared fixtures.

Databases: every test that asks for `database_url` (or `engine`, `event_store`) runs once on
SQLite and once on PostgreSQL, each time against a database migrated to head and holding no rows.
SQLite: a copy of a file migrated once per session. PostgreSQL: one database per session,
migrated once and truncated before each test (see `_ReusedPostgresDatabase`). Tests that need an
empty, unmigrated database ask for `empty_database_url` (a new database each time).

PostgreSQL comes from `BRIDGES_TEST_POSTGRES_URL` (`postgresql+psycopg://user:pw@host:port/db`,
a role allowed to create databases), else from `deploy/local/postgres.sh up` / `url`. There is no
skipping: if PostgreSQL cannot be reached the tests fail and say why. Deselect them explicitly
with `-m "not postgres"`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from services.ledger.store import EventStore, make_engine
from services.ledger.store import upgrade as migrate_to
from services.ledger.store.migrate import alembic_config

# Fixture modules shared across tiers (importing them into a test module confuses linters).
pytest_plugins = ["tests.support.notifier_db"]

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL_ENV = "BRIDGES_TEST_POSTGRES_URL"
POSTGRES_SCRIPT = REPO_ROOT / "deploy" / "local" / "postgres.sh"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


# --- PostgreSQL -------------------------------------------------------------------------------


def _run_postgres_script(*args: str) -> str:
    if not POSTGRES_SCRIPT.exists():
        pytest.fail(
            f"{POSTGRES_URL_ENV} is not set and {POSTGRES_SCRIPT} does not exist", pytrace=False
        )
    result = subprocess.run(
        [str(POSTGRES_SCRIPT), *args], capture_output=True, text=True, timeout=180, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{POSTGRES_SCRIPT.name} {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the test server's maintenance database (creates/drops databases)."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        _run_postgres_script("up")
        url = _run_postgres_script("url").strip().splitlines()[-1].strip()
    engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    problem = None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as error:
        problem = str(error.orig)
    if problem is not None:
        engine.dispose()
        pytest.fail(f"PostgreSQL at {make_url(url)!r} is not reachable: {problem}", pytrace=False)
    yield engine
    engine.dispose()


def _database_url(admin: Engine, database: str) -> str:
    return admin.url.set(database=database).render_as_string(hide_password=False)


def _create_postgres_database(admin: Engine) -> str:
    name = f"bridges_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return name


def _drop_postgres_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class _ReusedPostgresDatabase:
    """One database per session, migrated once and emptied before each test.

    `TRUNCATE ... RESTART IDENTITY` leaves it exactly as freshly migrated (positions restart at 1)
    in milliseconds, where `CREATE DATABASE` costs ~0.3 s. If a test left the schema off head
    (or the truncate cannot get its locks) the database is dropped and built again.
    """

    def __init__(self, admin: Engine) -> None:
        self._admin = admin
        self._head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        self._name: str | None = None
        self._engine: Engine | None = None

    def fresh_url(self) -> str:
        if self._name is None or not self._emptied():
            self._rebuild()
        assert self._name is not None
        return _database_url(self._admin, self._name)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self._name is not None:
            _drop_postgres_database(self._admin, self._name)

    def _rebuild(self) -> None:
        self.close()
        self._name = _create_postgres_database(self._admin)
        url = _database_url(self._admin, self._name)
        migrate_to(url)
        self._engine = create_engine(url, poolclass=NullPool)

    def _emptied(self) -> bool:
        assert self._engine is not None
        try:
            with self._engine.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '5s'"))
                versions = connection.execute(text("SELECT version_num FROM alembic_version"))
                if versions.scalars().all() != [self._head]:
                    return False
                tables = connection.execute(
                    text(
                        "SELECT quote_ident(tablename) FROM pg_tables "
                        "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
                    )
                ).scalars()
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return True
        except DBAPIError:
            return False


@pytest.fixture(scope="session")
def _postgres_database(postgres_admin_engine: Engine) -> Iterator[_ReusedPostgresDatabase]:
    database = _ReusedPostgresDatabase(postgres_admin_engine)
    yield database
    database.close()


@pytest.fixture
def postgres_url(_postgres_database: _ReusedPostgresDatabase) -> str:
    """A PostgreSQL database migrated to head and holding no rows (as good as fresh)."""
    return _postgres_database.fresh_url()


@pytest.fixture
def empty_postgres_url(postgres_admin_engine: Engine) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (no migrations), dropped after the test."""
    name = _create_postgres_database(postgres_admin_engine)
    yield _database_url(postgres_admin_engine, name)
    _drop_postgres_database(postgres_admin_engine, name)


# --- SQLite -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "ledger.db"
    migrate_to(f"sqlite:///{path}")  # disposing the engine checkpoints the WAL into the file
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database file migrated to head."""
    path = tmp_path / "ledger.db"
    shutil.copyfile(_sqlite_template, path)
    assert not Path(f"{_sqlite_template}-wal").exists(), "template left a WAL file behind"
    return f"sqlite:///{path}"


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'empty.db'}"


# --- Either backend ---------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: "sqlite" or "postgresql"."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A fresh database migrated to head, on each backend."""
    return str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url"))


@pytest.fixture
def empty_database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A fresh database with no schema at all, on each backend."""
    name = "empty_sqlite_url" if backend == "sqlite" else "empty_postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def event_store(engine: Engine) -> EventStore:
    return EventStore(engine)


# --- the test clock ---------------------------------------------------------------------------


def pytest_report_header() -> str:
    """Which "now" this run's tests use (a failure under the calendar sweep names its date)."""
    from tests.support.clock import TEST_NOW, TEST_NOW_ENV, TEST_TODAY

    source = TEST_NOW_ENV if os.environ.get(TEST_NOW_ENV) else "the fixed default"
    return f"test clock: {TEST_NOW.isoformat()} (London {TEST_TODAY}), from {source}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing test's report says which test "now" it failed at."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed:
        report.sections.append(("test clock", pytest_report_header()))


# --- The local OpenID Connect provider ---------------------------------------------------------


@pytest.fixture(scope="session")
def oidc_url() -> str:
    """Base URL of deploy/local/oidc.sh's provider ($BRIDGES_TEST_OIDC_URL, else started)."""
    from tests.support.oidc import oidc_base_url

    return oidc_base_url()
