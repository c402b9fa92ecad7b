"""Online backup and restore of a SQLite database with SQLite's backup API (never a file copy:
WAL mode keeps recent writes in a side file). PostgreSQL: use pg_dump -Fc / pg_restore (see
the operations guide)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError("backup/restore here is for SQLite; use pg_dump -Fc / pg_restore")
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
