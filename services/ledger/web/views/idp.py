"""Sign in with the organisation's identity provider (OpenID Connect, authorization code flow).

Authlib does the protocol: the authorization request carries a fresh `state`, a `nonce` and a
PKCE S256 challenge, all kept in the signed session; the callback is refused unless its state
is the one this browser was given (once: a replayed callback finds it gone), the code is
exchanged with the matching PKCE verifier, and the ID token is checked against the issuer's
JWKS (signature, issuer, audience, expiry, nonce). Bridges then maps the token's groups to
roles (`domain/identity.py`): no role, no entry, and a person whose groups stopped mapping
loses the roles the provider gave them, on every session and API token.

People are matched by (issuer, subject) once linked, else by the token's email within the
organisation; someone the organisation's provider vouches for but Bridges does not know yet is
added to the organisation (a `PersonAdded` event, as an operator adding them would record).
"""

from __future__ import annotations

import hashlib
from typing import Any

import joserfc.errors
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from requests import RequestException
from sqlalchemy import Connection, func, insert, select, update

from shared.i18n import N_, gettext
from shared.logging import get_logger

from ...application import Ledger
from ...domain.errors import DomainError
from ...domain.identity import roles_from_groups
from ...identity import Provider, load_provider, record_sign_in, resolve_secret
from ...store.access_tables import identity_providers, idp_links
from ...store.views import organisations, people
from ..sessions import start_session

log = get_logger("ledger.web.idp")
SESSION_KEY = "idp_organisation"
PROTOCOL_ERRORS = (OAuthError, joserfc.errors.JoseError, RequestException, LookupError, ValueError)


def _client_name(provider: Provider) -> str:
    """One Authlib client per provider configuration: a changed configuration gets a new one."""
    digest = hashlib.sha256(
        "\0".join((provider.issuer, provider.client_id, provider.client_secret_ref)).encode()
    ).hexdigest()[:16]
    return f"org-{provider.organisation_id}-{digest}"


def _client(oauth: OAuth, provider: Provider) -> Any:
    name = _client_name(provider)
    client = oauth.create_client(name)
    if client is None:
        oauth.register(
            name,
            client_id=provider.client_id,
            client_secret=resolve_secret(provider.client_secret_ref),
            server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )
        client = oauth.create_client(name)
    metadata = client.load_server_metadata()
    if metadata.get("issuer") != provider.issuer:
        raise LookupError(
            f"the discovery document names issuer {metadata.get('issuer')!r}, "
            f"not the configured {provider.issuer!r}"
        )
    return client


def _refused(reason: str, status: int = 400) -> tuple[str, int]:
    titles = {
        400: N_("Sign-in with your organisation's account did not complete"),
        403: N_("Your organisation's account does not give you access to Bridges"),
    }
    body = render_template(
        "idp_refused.html", title=gettext(titles[status]), reason=gettext(reason)
    )
    return body, status


def _email_of(claims: dict[str, Any]) -> str | None:
    for claim in ("email", "preferred_username", "upn"):
        value = claims.get(claim)
        if isinstance(value, str) and "@" in value and len(value) <= 254:
            return value.strip().lower()
    return None


def _person_for(
    ledger: Ledger, provider: Provider, claims: dict[str, Any], roles: tuple[str, ...]
) -> str | tuple[str, int]:
    """The id of the person these claims name (added if new), or the page refusing them."""
    subject = str(claims["sub"])
    now = ledger.clock()
    with ledger.store.unit_of_work() as uow:
        connection: Connection = uow.connection
        link = connection.execute(
            select(idp_links.c.person_id, people.c.organisation_id)
            .select_from(idp_links.join(people, people.c.id == idp_links.c.person_id))
            .where(idp_links.c.issuer == provider.issuer, idp_links.c.subject == subject)
        ).first()
        if link is not None and link.organisation_id != provider.organisation_id:
            # Two organisations in one tenant share an issuer: a link is for one of them.
            return _refused(N_("This account belongs to a person of another organisation."), 403)
        linked = None if link is None else link.person_id
        if linked is not None:
            connection.execute(
                update(idp_links)
                .where(idp_links.c.person_id == linked)
                .values(roles=list(roles), signed_in_at=now)
            )
            return str(linked)
        if not roles:
            return _refused(_NO_ROLE, 403)
        email = _email_of(claims)
        if email is None:
            return _refused(N_("Your organisation's account sent no email address."))
        found = connection.execute(
            select(people.c.id, people.c.organisation_id, people.c.roles).where(
                func.lower(people.c.email) == email
            )
        ).first()
        if found is not None and "operator" in found.roles:
            return _refused(N_("Operators sign in with their Bridges password."), 403)
        if found is not None and found.organisation_id != provider.organisation_id:
            log.warning("idp email belongs to another organisation", issuer=provider.issuer)
            return _refused(N_("This account belongs to a person of another organisation."), 403)
        if (
            found is not None
            and connection.execute(
                select(idp_links.c.person_id).where(idp_links.c.person_id == found.id)
            ).first()
        ):
            return _refused(N_("This person already signs in with another account."), 403)
        if found is None:
            name = claims.get("name") if isinstance(claims.get("name"), str) else None
            try:
                person_id = ledger.add_person(
                    uow,
                    None,
                    provider.organisation_id,
                    {"name": name or email.split("@")[0], "email": email, "roles": list(roles)},
                )["id"]
            except DomainError as error:
                log.warning("idp person could not be added", error=str(error))
                return _refused(N_("Bridges could not add you from your organisation's account."))
        else:
            person_id = found.id
        connection.execute(
            insert(idp_links).values(
                person_id=person_id,
                issuer=provider.issuer,
                subject=subject,
                roles=list(roles),
                signed_in_at=now,
            )
        )
        return str(person_id)


_NO_ROLE = N_(
    "None of your groups at your organisation gives a role in Bridges. "
    "Ask your organisation's IT service desk to add you to a Bridges group."
)


def redirect_uri(ledger: Ledger) -> str:
    """Where the provider sends the browser back: on the address people use to reach Bridges
    (`BRIDGES_LEDGER_URL`), which is also what the organisation registers at its provider."""
    return ledger.settings.public_url.rstrip("/") + url_for("web.idp_callback")


def register(bp: Blueprint, ledger: Ledger, oauth: OAuth) -> None:
    engine = ledger.store.engine

    @bp.route("/sign-in/idp/<organisation_id>")
    def idp_start(organisation_id: str) -> Any:
        with engine.connect() as connection:
            provider = load_provider(connection, organisation_id[:36])
        if provider is None:
            abort(404)
        try:
            client = _client(oauth, provider)
            session[SESSION_KEY] = provider.organisation_id
            return client.authorize_redirect(redirect_uri(ledger))
        except PROTOCOL_ERRORS as error:
            log.warning("idp unreachable", issuer=provider.issuer, error=str(error))
            return _refused(
                N_("Your organisation's sign-in service did not answer. Try again later.")
            )

    @bp.route("/sign-in/idp/callback")
    def idp_callback() -> Any:
        organisation_id = session.get(SESSION_KEY)
        provider = None
        if isinstance(organisation_id, str):
            with engine.connect() as connection:
                provider = load_provider(connection, organisation_id)
        if provider is None:
            return _refused(
                N_("This sign-in was not started here, or it has expired. Start again.")
            )
        try:
            token = _client(oauth, provider).authorize_access_token()
        except PROTOCOL_ERRORS as error:
            log.warning("idp callback refused", issuer=provider.issuer, error=repr(error))
            return _refused(N_("The answer from your organisation's account could not be trusted."))
        claims = token.get("userinfo")
        if not claims or not claims.get("sub"):
            return _refused(N_("Your organisation's sign-in service sent no ID token."))
        session.pop(SESSION_KEY, None)
        roles = roles_from_groups(claims.get(provider.groups_claim), provider.role_map)
        outcome = _person_for(ledger, provider, dict(claims), roles)
        if not isinstance(outcome, str):
            return outcome
        if not roles:
            log.info("idp sign-in without a role", issuer=provider.issuer)
            return _refused(_NO_ROLE, 403)
        with engine.begin() as connection:
            record_sign_in(
                connection,
                ledger.clock(),
                outcome,
                "idp",
                issuer=provider.issuer,
                address=request.remote_addr,
            )
            password_hash = connection.execute(
                select(people.c.password_hash).where(people.c.id == outcome)
            ).scalar()
        start_session(outcome, password_hash, via="idp")
        return redirect(url_for("web.home"))


def providers_for_sign_in(ledger: Ledger) -> list[dict[str, str]]:
    """The organisations that sign in with their own provider, for the sign-in page's buttons."""
    with ledger.store.engine.connect() as connection:
        rows = connection.execute(
            select(organisations.c.id, organisations.c.name)
            .select_from(
                identity_providers.join(
                    organisations, identity_providers.c.organisation_id == organisations.c.id
                )
            )
            .order_by(organisations.c.name)
        )
        return [{"id": row.id, "name": row.name} for row in rows]
