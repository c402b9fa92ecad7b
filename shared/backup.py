"""Backup and restore of a service's database, online.

SQLite: SQLite's online backup API (never a file copy: WAL mode keeps recent writes in a side
file). PostgreSQL: `pg_dump --format=custom` (a consistent snapshot while the services run)
and `pg_restore`, the PostgreSQL client programs (their major version at least the server's),
given the password through the environment, never on the command line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupFailed(Exception):
    """The backup or restore program failed; the message says why."""


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError("not a SQLite database URL")
    return Path(url.removeprefix("sqlite:///"))


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of `source` into `target` (replacing its contents)."""
    if not source.exists():
        raise FileNotFoundError(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq form of a SQLAlchemy URL (no driver, no password) and an environment that
    carries the password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(program: str, args: list[str], env: dict[str, str]) -> None:
    path = shutil.which(program)
    if path is None:
        raise BackupFailed(f"{program} not found: install the PostgreSQL client programs")
    done = subprocess.run(  # noqa: S603 - fixed program, arguments we built
        [path, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupFailed(f"{program} failed ({done.returncode}): {done.stderr.strip()}")


def backup_database(url: str, out: Path) -> str:
    """Write a backup of the database at `url` to `out`; what was done, for the operator."""
    if _is_postgres(url):
        target, env = _libpq(url)
        _run("pg_dump", ["--format=custom", "--no-owner", f"--file={out}", target], env)
        return f"backed up PostgreSQL database {make_url(url).database} to {out} (pg_dump -Fc)"
    source = sqlite_path(url)
    copy_sqlite(source, out)
    return f"backed up {source} to {out}"


def describe_restore(url: str, backup: Path) -> str:
    if _is_postgres(url):
        return f"replace every object of PostgreSQL database {make_url(url).database} with {backup}"
    return f"replace {sqlite_path(url)} with {backup}"


def restore_database(url: str, backup: Path) -> str:
    """Replace the database at `url` with `backup` (stop the services first). PostgreSQL: in
    one transaction, dropping the objects the backup holds first, so an empty database or one
    that holds an older copy both end up as the backup."""
    if _is_postgres(url):
        target, env = _libpq(url)
        args = ["--no-owner", "--clean", "--if-exists", "--single-transaction"]
        _run("pg_restore", [*args, "--exit-on-error", f"--dbname={target}", str(backup)], env)
        return f"restored PostgreSQL database {make_url(url).database} from {backup}"
    target_path = sqlite_path(url)
    copy_sqlite(backup, target_path)
    return f"restored {target_path} from {backup}"
