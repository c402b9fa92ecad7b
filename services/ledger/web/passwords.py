"""Passwords for the web forms: argon2id hashes in `people.password_hash`.

Setting a password is not an event: a credential is not a fact to publish, so it is written
straight to the people view, as API tokens are.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, update

from ..store.views import people

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher()
# Checked against when the email is unknown, so both answers take as long.
_DUMMY_HASH = _hasher.hash("not-a-password-anyone-has")


def check_new_password(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password must be at most {MAX_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if `password` matches; an unknown person (None) costs the same time."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def set_password(connection: Connection, person_id: str, password: str) -> None:
    """Store a new password for a person (raises ValueError when it is unacceptable)."""
    problem = check_new_password(password)
    if problem:
        raise ValueError(problem)
    result = connection.execute(
        update(people).where(people.c.id == person_id).values(password_hash=hash_password(password))
    )
    if result.rowcount != 1:
        raise LookupError(f"no person {person_id}")
