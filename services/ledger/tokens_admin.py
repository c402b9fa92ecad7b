"""Operators' token commands: list, rotate and revoke a person's API tokens in the ledger's
store (`api_tokens` holds a digest of each token, never the token). A token's id is the first
12 hex digits of its digest: enough to name it, useless to forge it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, func, select, update

from .store.views import api_tokens, people

TOKEN_ID_LENGTH = 12


@dataclass(frozen=True)
class TokenRow:
    token_id: str
    person_id: str
    created_at: datetime
    revoked_at: datetime | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "token_id": self.token_id,
            "person_id": self.person_id,
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


def person_by_email(connection: Connection, email: str) -> str | None:
    return connection.execute(
        select(people.c.id).where(func.lower(people.c.email) == email.strip().lower())
    ).scalar()


def tokens_of(connection: Connection, person_id: str) -> list[TokenRow]:
    rows = connection.execute(
        select(api_tokens)
        .where(api_tokens.c.person_id == person_id)
        .order_by(api_tokens.c.created_at)
    ).all()
    return [
        TokenRow(row.token_hash[:TOKEN_ID_LENGTH], row.person_id, row.created_at, row.revoked_at)
        for row in rows
    ]


def revoke(
    connection: Connection,
    now: datetime,
    *,
    person_id: str | None = None,
    token_id: str | None = None,
    keep_hash: str | None = None,
) -> list[str]:
    """Revoke the live tokens of a person (all but `keep_hash`), or the one token with this id;
    the digests revoked (their first TOKEN_ID_LENGTH digits are the ids `list` prints)."""
    where: list[ColumnElement[bool]] = [api_tokens.c.revoked_at.is_(None)]
    if person_id is not None:
        where.append(api_tokens.c.person_id == person_id)
    if token_id is not None:
        if len(token_id) < TOKEN_ID_LENGTH:
            raise ValueError(f"a token id has {TOKEN_ID_LENGTH} hex digits")
        where.append(api_tokens.c.token_hash.startswith(token_id.lower(), autoescape=True))
    if keep_hash is not None:
        where.append(api_tokens.c.token_hash != keep_hash)
    hashes = list(connection.execute(select(api_tokens.c.token_hash).where(*where)).scalars())
    if hashes:
        connection.execute(
            update(api_tokens).where(api_tokens.c.token_hash.in_(hashes)).values(revoked_at=now)
        )
    return hashes
