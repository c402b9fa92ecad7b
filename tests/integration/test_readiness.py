"""`/readyz` of both services: ready only while the database answers and is migrated to head,
with the reason in a problem document when not; and ready again once the cause is gone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from services.ledger.api.app import create_app as create_ledger
from services.ledger.store.migrate import MIGRATIONS_DIR as LEDGER_MIGRATIONS
from services.ledger.store.migrate import upgrade as upgrade_ledger
from services.notifier.api.app import create_app as create_notifier
from services.notifier.settings import NotifierSettings
from services.notifier.store.migrate import MIGRATIONS_DIR as NOTIFIER_MIGRATIONS
from services.notifier.store.migrate import VERSION_TABLE as NOTIFIER_VERSION_TABLE
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.migrations import head_revision
from shared.settings import LedgerSettings
from shared.sql import make_engine


@dataclass(frozen=True)
class Service:
    name: str
    create: Callable[[str, Path], Flask]
    upgrade: Callable[[str], None]
    version_table: str
    head: str


SERVICES = [
    Service(
        "ledger",
        lambda url, var: create_ledger(
            LedgerSettings(database_url=url, var_dir=str(var)), testing=True
        ),
        upgrade_ledger,
        "alembic_version",
        head_revision(LEDGER_MIGRATIONS),
    ),
    Service(
        "notifier",
        lambda url, var: create_notifier(
            NotifierSettings(database_url=url), testing=True, var_dir=var
        ),
        upgrade_notifier,
        NOTIFIER_VERSION_TABLE,
        head_revision(NOTIFIER_MIGRATIONS),
    ),
]


@pytest.fixture(params=SERVICES, ids=lambda service: service.name)
def service(request: pytest.FixtureRequest) -> Service:
    return request.param  # type: ignore[no-any-return]


def readiness(app: Flask) -> tuple[int, str, dict[str, object]]:
    response = app.test_client().get("/readyz")
    return response.status_code, response.mimetype, response.get_json()


def assert_not_ready(app: Flask, reason: str) -> None:
    status, mimetype, body = readiness(app)
    assert (status, mimetype) == (503, "application/problem+json"), body
    assert body["title"] == "Not ready"
    assert reason in str(body["detail"]), body


def assert_ready(app: Flask) -> None:
    status, _, body = readiness(app)
    assert (status, body["status"]) == (200, "ready"), body


@pytest.mark.postgres
def test_a_missing_database_is_not_ready_until_created_and_migrated(
    service: Service, postgres_admin_engine: Engine, tmp_path: Path
) -> None:
    admin = postgres_admin_engine
    name = f"bridges_test_ready_{service.name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    app = service.create(url, tmp_path)
    try:
        assert app.test_client().get("/healthz").status_code == 200  # alive all along
        assert_not_ready(app, "not ready: the database does not answer (OperationalError)")

        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        assert_not_ready(app, f"the database is not migrated (no revision; head is {service.head})")

        service.upgrade(url)
        assert_ready(app)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_ledger_behind_head_is_not_ready_until_upgraded(
    empty_database_url: str, tmp_path: Path
) -> None:
    upgrade_ledger(empty_database_url, "0001")
    app = SERVICES[0].create(empty_database_url, tmp_path)

    assert_not_ready(
        app, f"the database is at revision 0001, behind head {SERVICES[0].head}: run the migrations"
    )

    upgrade_ledger(empty_database_url)
    assert_ready(app)


def test_a_database_migrated_by_a_newer_release_stays_ready(
    service: Service, empty_database_url: str, tmp_path: Path
) -> None:
    """A rolling upgrade migrates first; the old release's processes keep serving meanwhile."""
    service.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {service.version_table} SET version_num = '9999'"))
    finally:
        engine.dispose()

    assert_ready(service.create(empty_database_url, tmp_path))
