"""API tokens: random, shown once, stored only as a SHA-256 digest.

A token carries 256 bits of randomness, so a fast digest is enough: there is nothing to
brute-force that a slow password hash would protect.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "brg_"  # noqa: S105 - a prefix, not a secret


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
