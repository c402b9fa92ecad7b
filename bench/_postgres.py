"""Scratch PostgreSQL databases for the benchmarks: the project's local server (started if it
is the local default and not running), a fresh database per measurement, dropped afterwards.
(A leading underscore: `make bench` runs every other file in bench/.)"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

ROOT = Path(__file__).resolve().parent.parent


def postgres_url(given: str | None) -> str:
    """The given URL, else the one of the project's local server."""
    if given:
        return given
    output = subprocess.run(
        ["bash", str(ROOT / "deploy/local/postgres.sh"), "url"],
        check=True,
        capture_output=True,
        text=True,
    )
    return output.stdout.strip()


def admin_connect(url: URL, database: str = "postgres") -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=database,
        autocommit=True,
    )


def ensure_postgres(url: URL, start: bool) -> None:
    """The server answers; if not (and `start`), start the project's local server."""
    try:
        admin_connect(url).close()
    except psycopg.OperationalError:
        if not start:
            raise
        subprocess.run(["bash", str(ROOT / "deploy/local/postgres.sh"), "up"], check=True)


@contextmanager
def throwaway_database(url: URL, prefix: str) -> Iterator[URL]:
    """A new, empty database on the server of `url`, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin_connect(url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name)
    finally:
        with admin_connect(url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
