"""Bearer tokens issued by the ledger, verified here by their signature; the person and their
roles come from the notifier's read model (the ledger's `PersonAdded` events), and a token the
ledger revoked (`ApiTokensRevoked`, by its digest) is refused."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import Engine, select

from shared.i18n import N_
from shared.principal import Principal
from shared.problems import Problem
from shared.tokens import hash_token, verify_token_any

from ..store.tables import organisations, people, revoked_tokens

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="bridges"'}


def authenticate(engine: Engine, keys: tuple[bytes, ...]) -> Principal:
    cached = g.get("principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "unauthenticated",
            N_("Authentication required"),
            N_("send the API token the ledger issued as 'Authorization: Bearer <token>'"),
            headers=_CHALLENGE,
        )
    person_id = verify_token_any(token.strip(), keys)
    row = None
    if person_id is not None:
        with engine.connect() as connection:
            revoked = connection.execute(
                select(revoked_tokens.c.token_digest).where(
                    revoked_tokens.c.token_digest == hash_token(token.strip())
                )
            ).first()
            if revoked is not None:
                raise Problem(
                    401,
                    "unauthenticated",
                    "Authentication required",
                    "the API token was revoked: ask for a new one",
                    headers=_CHALLENGE,
                )
            row = connection.execute(
                select(people.c.id, people.c.organisation_id, people.c.roles, organisations.c.kind)
                .select_from(
                    people.join(organisations, people.c.organisation_id == organisations.c.id)
                )
                .where(people.c.id == person_id)
            ).first()
    if row is None:
        raise Problem(
            401,
            "unauthenticated",
            N_("Authentication required"),
            N_("the API token is not valid here, or its person is not known to the notifier yet"),
            headers=_CHALLENGE,
        )
    principal = Principal(row.id, row.organisation_id, row.kind, frozenset(row.roles))
    g.principal = principal
    return principal
