"""API tokens both services accept: the ledger issues them, signed with a key the two services
share, so the notifier can check one without asking the ledger.

A token reads `brg_<person>.<nonce>.<signature>`: the person's id, 192 random bits, and an
HMAC-SHA256 over both. The ledger also stores a SHA-256 digest of each token it issued, so it
can revoke one; the notifier trusts the signature and the people it knows from the events.
The key comes from `BRIDGES_TOKEN_KEY`, else from a file in the var directory created once
with mode 0600 (enough for one machine; set the variable in production).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid
from pathlib import Path

TOKEN_PREFIX = "brg_"  # noqa: S105 - a prefix, not a secret
KEY_ENV = "BRIDGES_TOKEN_KEY"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signature(key: bytes, person: str, nonce: str) -> str:
    return _b64(hmac.new(key, f"{person}.{nonce}".encode(), hashlib.sha256).digest())


def issue_token(person_id: str, key: bytes) -> str:
    person = uuid.UUID(person_id).hex
    nonce = secrets.token_urlsafe(24)
    return f"{TOKEN_PREFIX}{person}.{nonce}.{_signature(key, person, nonce)}"


def verify_token(token: str, key: bytes) -> str | None:
    """The person id a token was issued to, or None if it is not one of ours."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    parts = token[len(TOKEN_PREFIX) :].split(".")
    if len(parts) != 3:
        return None
    person, nonce, signature = parts
    if not hmac.compare_digest(_signature(key, person, nonce), signature):
        return None
    try:
        return str(uuid.UUID(hex=person))
    except ValueError:
        return None


def hash_token(token: str) -> str:
    """What the ledger stores: 256 random bits need no slow hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_key(var_dir: Path) -> bytes:
    """The signing key: from the environment, else a file made once in the var directory."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        return configured.encode("utf-8")
    path = var_dir / "token_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, secrets.token_urlsafe(48).encode())
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)
    return path.read_bytes().strip()
