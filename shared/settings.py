"""Settings from environment variables, with safe defaults for a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from exc


def _var_dir() -> Path:
    return Path(os.environ.get("BRIDGES_VAR_DIR", str(REPO_ROOT / "var")))


def default_ledger_database_url() -> str:
    return f"sqlite:///{_var_dir() / 'ledger.db'}"


@dataclass(frozen=True)
class LedgerSettings:
    """Everything the ledger reads from its environment."""

    database_url: str = field(default_factory=default_ledger_database_url)
    max_body_bytes: int = 1_000_000
    max_page_size: int = 200
    idempotency_lease_seconds: int = 30
    public_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls) -> LedgerSettings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or default_ledger_database_url(),
            max_body_bytes=_int("BRIDGES_MAX_BODY_BYTES", 1_000_000),
            max_page_size=_int("BRIDGES_MAX_PAGE_SIZE", 200),
            idempotency_lease_seconds=_int("BRIDGES_IDEMPOTENCY_LEASE_SECONDS", 30),
            public_url=os.environ.get("BRIDGES_LEDGER_URL", "http://127.0.0.1:8000"),
        )
