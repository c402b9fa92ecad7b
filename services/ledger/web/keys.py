"""The key that signs session cookies and CSRF tokens.

`BRIDGES_SECRET_KEY` wins. Without it, tests get a random key per process, and everything
else (the demo, a laptop) a random key kept in `<var dir>/secret_key` (mode 0600), created
once and shared by every gunicorn worker, so `make demo` stays one command and sessions
survive a restart. Production should set the variable from its secret store.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from shared.settings import LedgerSettings

KEY_FILE = "secret_key"


def resolve_secret_key(settings: LedgerSettings, *, testing: bool) -> str:
    if settings.secret_key:
        return settings.secret_key
    if testing:
        return secrets.token_hex(32)
    return _persisted_key(Path(settings.var_dir) / KEY_FILE)


def _persisted_key(path: Path) -> str:
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a private temporary file, then link it into place: of several workers starting
    # at once exactly one link succeeds, and every worker then reads the same key.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable secret key; delete it to make a new one")
    return key
