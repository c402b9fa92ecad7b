"""A ledger migration's module, loaded from its file (their names start with a digit, so they
cannot be imported by name), for tests that call a migration's own backfill."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from services.ledger.store.migrate import MIGRATIONS_DIR


def ledger_migration(filename: str) -> ModuleType:
    """The module of `services/ledger/migrations/versions/<filename>`."""
    path = MIGRATIONS_DIR / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"ledger_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
