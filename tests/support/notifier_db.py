"""A fresh, migrated notifier database on SQLite or PostgreSQL (import the fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from services.notifier.store.migrate import upgrade
from shared.sql import make_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def notifier_url(request: pytest.FixtureRequest) -> str:
    name = "empty_sqlite_url" if request.param == "sqlite" else "empty_postgres_url"
    url = str(request.getfixturevalue(name))
    upgrade(url)
    return url


@pytest.fixture
def notifier_engine(notifier_url: str) -> Iterator[Engine]:
    engine = make_engine(notifier_url)
    yield engine
    engine.dispose()
