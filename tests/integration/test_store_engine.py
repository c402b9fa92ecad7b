"""The engine factory: SQLite pragmas and BEGIN IMMEDIATE for writers; PostgreSQL pre-ping."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from services.ledger.store import begin_write, make_engine


def test_sqlite_is_configured_for_concurrent_use(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, sqlite_busy_timeout_ms=1234)
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
        assert pragma == {
            "journal_mode": "wal",
            "busy_timeout": 1234,
            "foreign_keys": 1,
            "synchronous": 2,
        }
    finally:
        engine.dispose()


def test_sqlite_writers_take_the_write_lock_at_begin_and_readers_do_not(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, sqlite_busy_timeout_ms=50)
    try:
        with begin_write(engine) as writer:
            writer.execute(text("SELECT 1"))  # no write yet: the lock is already held
            with engine.connect() as reader:
                assert reader.execute(text("SELECT count(*) FROM events")).scalar() == 0
            with pytest.raises(OperationalError, match="locked"), begin_write(engine):
                pass
    finally:
        engine.dispose()


def test_sqlite_parent_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "ledger.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert path.exists()
    finally:
        engine.dispose()


def test_postgresql_engines_pre_ping(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        assert engine.pool._pre_ping
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://u@localhost/db")
