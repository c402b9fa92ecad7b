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
import contextlib
import hashlib
import hmac
import os
import secrets
import uuid
from pathlib import Path

TOKEN_PREFIX = "brg_"  # noqa: S105 - a prefix, not a secret
KEY_ENV = "BRIDGES_TOKEN_KEY"
PREVIOUS_KEY_ENV = "BRIDGES_TOKEN_KEY_PREVIOUS"
PREVIOUS_KEY_FILE = "token_key.previous"


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
        # Several gunicorn workers start at once on a fresh var directory: each writes a
        # private temporary file and links it into place; exactly one link wins, and every
        # worker then reads that whole key (never a half-written or missing one).
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_urlsafe(48).encode())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_bytes().strip()


def previous_token_key(var_dir: Path) -> bytes | None:
    """The key before the last rotation, still accepted during the grace period (until every
    token is reissued): `BRIDGES_TOKEN_KEY_PREVIOUS`, else var/token_key.previous."""
    configured = os.environ.get(PREVIOUS_KEY_ENV)
    if configured:
        return configured.encode("utf-8")
    path = var_dir / PREVIOUS_KEY_FILE
    return path.read_bytes().strip() if path.exists() else None


def token_keys(var_dir: Path) -> tuple[bytes, ...]:
    """The keys a token may be signed with: the current one, then the previous one if any."""
    current = token_key(var_dir)
    previous = previous_token_key(var_dir)
    return (current,) if previous is None or previous == current else (current, previous)


def verify_token_any(token: str, keys: tuple[bytes, ...]) -> str | None:
    """`verify_token` with the first key that signed it."""
    for key in keys:
        person = verify_token(token, key)
        if person is not None:
            return person
    return None


def new_key() -> str:
    return secrets.token_urlsafe(48)


def rotate_key_file(var_dir: Path) -> None:
    """Keep the current file key as the previous one and write a new current key."""
    current = var_dir / "token_key"
    previous = var_dir / PREVIOUS_KEY_FILE
    token_key(var_dir)  # make sure there is a current key to keep
    staged = var_dir / "token_key.new"
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, new_key().encode())
    finally:
        os.close(descriptor)
    os.replace(current, previous)
    os.replace(staged, current)


#: The identity the notifier signs its calls to the ledger's internal API with (data keys).
#: No person has it; the ledger accepts it only on that API, by signature.
NOTIFIER_SERVICE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "urn:bridges:service:notifier"))
