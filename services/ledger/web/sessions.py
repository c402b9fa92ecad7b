"""Who is signed in. The session cookie holds the person's id (and when they signed in);
their organisation and roles are read from the database on every request, so a change of
roles applies at once, as `services/ledger/api/auth.py` does for API tokens."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import Engine, func, select

from ..access import Principal, effective_roles
from ..store.access_tables import idp_links
from ..store.views import organisations, people

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Person:
    """The signed-in person: a Principal for the ledger, and names for the pages."""

    principal: Principal
    name: str
    email: str
    organisation_name: str


def password_marker(password_hash: str | None) -> str:
    """A short digest of the stored hash: a new password ends the sessions made before it."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def find_by_email(engine: Engine, email: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(
                people.c.id, people.c.password_hash, people.c.organisation_id, people.c.roles
            ).where(func.lower(people.c.email) == email.strip().lower())
        ).first()


def load_person(engine: Engine, person_id: str) -> tuple[Person, str | None] | None:
    query = (
        select(
            people.c.id,
            people.c.name,
            people.c.email,
            people.c.roles,
            people.c.organisation_id,
            people.c.password_hash,
            organisations.c.kind,
            organisations.c.name.label("organisation_name"),
            idp_links.c.roles.label("idp_roles"),
        )
        .select_from(
            people.join(organisations, people.c.organisation_id == organisations.c.id).outerjoin(
                idp_links, idp_links.c.person_id == people.c.id
            )
        )
        .where(people.c.id == person_id)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    principal = Principal(
        person_id=row.id,
        organisation_id=row.organisation_id,
        organisation_kind=row.kind,
        roles=effective_roles(row.roles, row.idp_roles),
    )
    person = Person(principal, row.name, row.email, row.organisation_name)
    return person, row.password_hash


def start_session(person_id: str, password_hash: str | None, *, via: str = "password") -> None:
    session.clear()
    session["person_id"] = person_id
    session["via"] = via
    session["pw"] = password_marker(password_hash)
    session["since"] = int(time.time())


def end_session() -> None:
    session.clear()


def load_signed_in(engine: Engine, lifetime_seconds: int) -> Person | None:
    """The person of this request's session, or None (and the session is cleared) when it is
    missing, too old, made before their password last changed, or they have no role left (their
    identity provider's groups stopped mapping to any)."""
    person_id = session.get("person_id")
    if not person_id:
        return None
    since = session.get("since", 0)
    loaded = load_person(engine, person_id)
    if (
        loaded is None
        or not isinstance(since, int)
        or time.time() - since > lifetime_seconds
        or session.get("pw") != password_marker(loaded[1])
        or not loaded[0].principal.roles
    ):
        session.clear()
        return None
    return loaded[0]


def current_person() -> Person:
    person = g.get("person")
    if person is None:  # pragma: no cover - views are wrapped in signed_in
        abort(401)
    return cast(Person, person)


def signed_in(view: F) -> F:
    """Send people who are not signed in to the sign-in page, then back here."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("person") is None:
            return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def requires(check: Callable[[Principal], bool]) -> Callable[[F], F]:
    """Signed in, and allowed by `check` (else the 403 page)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            person = g.get("person")
            if person is None:
                return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))
            if not check(person.principal):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
