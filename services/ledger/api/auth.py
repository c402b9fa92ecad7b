"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import Engine, bindparam, select

from shared.i18n import N_
from shared.problems import Problem
from shared.tokens import hash_token

from ..access import Principal, effective_roles
from ..store.access_tables import idp_links
from ..store.views import api_tokens, organisations, people

# Built once, run per request: who holds this token digest (only unrevoked tokens answer).
_PRINCIPAL = (
    select(
        people.c.id,
        people.c.organisation_id,
        people.c.roles,
        organisations.c.kind,
        idp_links.c.roles.label("idp_roles"),
    )
    .select_from(
        api_tokens.join(people, api_tokens.c.person_id == people.c.id)
        .join(organisations, people.c.organisation_id == organisations.c.id)
        .outerjoin(idp_links, idp_links.c.person_id == people.c.id)
    )
    .where(api_tokens.c.token_hash == bindparam("digest"), api_tokens.c.revoked_at.is_(None))
)


def load_principal(engine: Engine, token: str) -> Principal | None:
    """The token's principal, read afresh on every request (no cache), so a revocation or a
    change of roles takes effect at once in every worker. On PostgreSQL one statement in
    autocommit mode, no BEGIN/ROLLBACK round trips around a single read. (Not on SQLite: its
    driver's transaction handling stays off, see shared/sql.py, and SQLAlchemy would turn it
    back on when resetting the connection from autocommit; a local BEGIN costs nothing there.)"""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        row = connection.execute(_PRINCIPAL, {"digest": hash_token(token)}).first()
    if row is None:
        return None
    return Principal(
        person_id=row.id,
        organisation_id=row.organisation_id,
        organisation_kind=row.kind,
        roles=effective_roles(row.roles, row.idp_roles),
    )


def authenticate(engine: Engine) -> Principal:
    """The request's principal, or a 401 problem."""
    cached = g.get("principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="bridges"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "unauthenticated",
            N_("Authentication required"),
            N_("send an API token as 'Authorization: Bearer <token>'"),
            headers=challenge,
        )
    principal = load_principal(engine, token.strip())
    if principal is None:
        raise Problem(
            401,
            "unauthenticated",
            N_("Authentication required"),
            N_("the API token is unknown or revoked"),
            headers=challenge,
        )
    g.principal = principal
    return principal
