"""Organisations' identity providers (OpenID Connect) and the sign-ins people make.

Each organisation may name one provider: its issuer, the client id Bridges was registered
with, where to read the client secret (`env:NAME` or `file:PATH`: the secret itself is never
stored, neither here nor in the event log), the ID token claim that lists the person's groups,
and how those groups map to Bridges roles (see `domain/identity.py`). Kept in the ledger's
database beside `api_tokens`, outside the event log: credentials are not facts to publish.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from .domain.errors import ValidationFailed
from .domain.identity import check_role_map
from .store.access_tables import identity_providers, idp_links, sign_ins

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Provider:
    organisation_id: str
    issuer: str
    client_id: str
    client_secret_ref: str
    groups_claim: str
    role_map: dict[str, list[str]]

    def to_json(self) -> dict[str, Any]:
        return {
            "organisation_id": self.organisation_id,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret_ref": self.client_secret_ref,
            "groups_claim": self.groups_claim,
            "role_map": self.role_map,
        }


def check_secret_ref(ref: str) -> str:
    """`env:NAME` or `file:PATH` (absolute); anything else (a pasted secret) is refused."""
    kind, _, rest = ref.partition(":")
    if kind == "env" and _ENV_NAME.fullmatch(rest):
        return ref
    if kind == "file" and rest.startswith("/"):
        return ref
    raise ValidationFailed(
        {"client_secret_ref": ["must be env:VARIABLE_NAME or file:/absolute/path"]}
    )


def resolve_secret(ref: str) -> str:
    """The client secret the reference points at; LookupError if it is not there."""
    kind, _, rest = ref.partition(":")
    if kind == "env":
        value = os.environ.get(rest, "")
    elif kind == "file":
        try:
            value = Path(rest).read_text().strip()
        except OSError as error:
            raise LookupError(f"cannot read the client secret file {rest}: {error}") from error
    else:
        raise LookupError(f"not a secret reference: {kind}:…")
    if not value:
        raise LookupError(f"the client secret {ref} is empty or unset")
    return value


def save_provider(
    connection: Connection,
    now: datetime,
    organisation_id: str,
    organisation_kind: str,
    *,
    issuer: str,
    client_id: str,
    client_secret_ref: str,
    groups_claim: str,
    role_map: object,
) -> Provider:
    problems: dict[str, list[str]] = {}
    if not re.fullmatch(r"https?://[^\s]+", issuer) or len(issuer) > 500:
        problems["issuer"] = ["must be the issuer's URL, as its discovery document names it"]
    if not client_id.strip() or len(client_id) > 200:
        problems["client_id"] = ["must be 1 to 200 characters"]
    if not re.fullmatch(r"[A-Za-z0-9_.:/-]{1,100}", groups_claim):
        problems["groups_claim"] = ["must be a claim name"]
    try:
        check_secret_ref(client_secret_ref)
    except ValidationFailed as error:
        problems.update(error.errors)
    try:
        checked_map = check_role_map(role_map, organisation_kind)
    except ValidationFailed as error:
        problems.update(error.errors)
    if problems:
        raise ValidationFailed(problems)
    values = {
        "issuer": issuer.strip(),
        "client_id": client_id.strip(),
        "client_secret_ref": client_secret_ref,
        "groups_claim": groups_claim,
        "role_map": checked_map,
        "updated_at": now,
    }
    found = connection.execute(
        select(identity_providers.c.organisation_id).where(
            identity_providers.c.organisation_id == organisation_id
        )
    ).first()
    if found is None:
        connection.execute(
            insert(identity_providers).values(organisation_id=organisation_id, **values)
        )
    else:
        connection.execute(
            update(identity_providers)
            .where(identity_providers.c.organisation_id == organisation_id)
            .values(**values)
        )
    provider = load_provider(connection, organisation_id)
    assert provider is not None
    return provider


def _provider(row: Any) -> Provider:
    return Provider(
        organisation_id=row.organisation_id,
        issuer=row.issuer,
        client_id=row.client_id,
        client_secret_ref=row.client_secret_ref,
        groups_claim=row.groups_claim,
        role_map=dict(row.role_map),
    )


def load_provider(connection: Connection, organisation_id: str) -> Provider | None:
    row = connection.execute(
        select(identity_providers).where(identity_providers.c.organisation_id == organisation_id)
    ).first()
    return None if row is None else _provider(row)


def all_providers(connection: Connection) -> list[Provider]:
    rows = connection.execute(select(identity_providers).order_by(identity_providers.c.issuer))
    return [_provider(row) for row in rows]


def remove_provider(connection: Connection, organisation_id: str) -> bool:
    """Forget the organisation's provider; its people's IdP roles go with it (they sign in with
    a password again, if they have one, with the roles they were added with)."""
    links = select(idp_links.c.person_id).where(
        idp_links.c.issuer.in_(
            select(identity_providers.c.issuer).where(
                identity_providers.c.organisation_id == organisation_id
            )
        )
    )
    connection.execute(delete(idp_links).where(idp_links.c.person_id.in_(links.scalar_subquery())))
    result = connection.execute(
        delete(identity_providers).where(identity_providers.c.organisation_id == organisation_id)
    )
    return bool(result.rowcount)


def record_sign_in(
    connection: Connection,
    now: datetime,
    person_id: str,
    method: str,
    *,
    issuer: str | None = None,
    address: str | None = None,
) -> None:
    """One row per successful sign-in (`sign_ins`): subject access lists a person's sign-ins."""
    connection.execute(
        insert(sign_ins).values(
            person_id=person_id, method=method, issuer=issuer, address=address, at=now
        )
    )


def sign_ins_of(connection: Connection, person_id: str) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(sign_ins).where(sign_ins.c.person_id == person_id).order_by(sign_ins.c.at)
    )
    return [
        {
            "at": row.at.isoformat(),
            "method": row.method,
            "issuer": row.issuer,
            "address": row.address,
        }
        for row in rows
    ]
