"""Sign in with the organisation's identity provider, against a real OpenID Connect provider on
loopback (deploy/local/oidc.sh), through the ledger served over HTTP, with an HTTP client that
follows redirects as a browser would (tests/browser/test_idp.py does it in Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from structlog.testing import capture_logs

from services.ledger.store.access_tables import idp_links, sign_ins
from services.ledger.store.views import people
from services.ledger.web.passwords import set_password
from tests.support.oidc import (
    IdpUser,
    configure_idp,
    csrf_token,
    log_in_at_idp,
    new_issuer,
    served,
    sign_in,
    start,
)
from tests.support.world import World

from .conftest import TODAY

APPROVERS = "7f3c1a52-approvers"  # Entra ID sends group object ids
FINANCE = "0b9d44e1-finance"
ROLE_MAP = {APPROVERS: ["approver"], FINANCE: ["finance"]}


@pytest.fixture
def site(app: Flask, world: World) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def issuer(oidc_url: str, world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    issuer = new_issuer(oidc_url)
    configure_idp(world.ledger, world.a.payer_id, issuer, ROLE_MAP, monkeypatch)
    return issuer


def _person(world: World, email: str) -> dict[str, object] | None:
    with world.ledger.store.engine.connect() as connection:
        row = connection.execute(
            select(people.c.id, people.c.roles, people.c.organisation_id).where(
                people.c.email == email
            )
        ).first()
        if row is None:
            return None
        link = connection.execute(
            select(idp_links.c.roles).where(idp_links.c.person_id == row.id)
        ).scalar()
        count = connection.execute(
            select(sign_ins.c.id).where(sign_ins.c.person_id == row.id, sign_ins.c.method == "idp")
        ).all()
    return {
        "id": row.id,
        "organisation_id": row.organisation_id,
        "idp_roles": link,
        "sign_ins": len(count),
    }


def test_groups_map_to_roles_and_a_new_member_of_staff_is_added(
    site: str, world: World, issuer: str
) -> None:
    http = requests.Session()
    page = http.get(f"{site}/sign-in", timeout=30)
    assert "Sign in with your ICB A account" in page.text
    user = IdpUser("nia-0001", "nia.nurse@nhs-a.example", [APPROVERS, "all-staff"])
    home = sign_in(http, site, world.a.payer_id, user)
    assert home.status_code == 200 and home.url == f"{site}/", home.text[:300]
    assert "Nia Nurse" in home.text
    assert http.get(f"{site}/approvals", timeout=30).status_code == 200
    assert http.get(f"{site}/payments/new", timeout=30).status_code == 403  # not finance
    found = _person(world, "nia.nurse@nhs-a.example")
    assert found == {
        "id": found and found["id"],
        "organisation_id": world.a.payer_id,
        "idp_roles": ["approver"],
        "sign_ins": 1,
    }


def test_a_person_whose_groups_stop_mapping_loses_access_at_the_next_sign_in(
    site: str, world: World, issuer: str
) -> None:
    earlier = requests.Session()  # a session from this morning, still open
    user = IdpUser("nia-0002", "nia.two@nhs-a.example", [APPROVERS, FINANCE])
    assert sign_in(earlier, site, world.a.payer_id, user).status_code == 200
    assert earlier.get(f"{site}/payments/new", timeout=30).status_code == 200
    person_id = str(_person(world, user.email)["id"])  # type: ignore[index]
    with world.ledger.store.unit_of_work() as uow:
        token = world.ledger.issue_token(uow, person_id)
    claim = world.submit(world.a, TODAY - timedelta(days=2))
    assert world.api.get(f"/claims/{claim['id']}", token).status_code == 200

    user.groups = ["all-staff"]  # removed from the Bridges groups at the IdP
    later = requests.Session()
    refused = sign_in(later, site, world.a.payer_id, user)
    assert refused.status_code == 403
    assert "None of your groups" in refused.text
    assert later.get(f"{site}/approvals", allow_redirects=False, timeout=30).status_code == 302
    # The morning's session has lost its roles too, and so have the person's API tokens.
    gone = earlier.get(f"{site}/approvals", allow_redirects=False, timeout=30)
    assert gone.status_code == 302 and "/sign-in" in gone.headers["Location"]
    assert _person(world, "nia.two@nhs-a.example")["idp_roles"] == []  # type: ignore[index]
    assert world.api.get(f"/claims/{claim['id']}", token).status_code == 404

    user.groups = [FINANCE]  # put back in one group: finance only
    again = requests.Session()
    assert sign_in(again, site, world.a.payer_id, user).status_code == 200
    assert again.get(f"{site}/payments/new", timeout=30).status_code == 200
    assert again.get(f"{site}/approvals", timeout=30).status_code == 200  # finance approves too


def test_an_existing_person_is_matched_by_email_and_stops_using_a_password(
    site: str, world: World, issuer: str
) -> None:
    http = requests.Session()
    user = IdpUser("aad-oid-approver-a", "approver.a@example.org", [FINANCE])
    assert sign_in(http, site, world.a.payer_id, user).status_code == 200
    assert _person(world, "approver.a@example.org")["idp_roles"] == ["finance"]  # type: ignore[index]
    assert http.get(f"{site}/payments/new", timeout=30).status_code == 200

    with_password = requests.Session()
    refused = with_password.post(
        f"{site}/sign-in",
        data={
            "csrf_token": csrf_token(with_password, f"{site}/sign-in"),
            "email": "approver.a@example.org",
            "password": "correct-horse-battery",
        },
        timeout=30,
    )
    assert refused.status_code == 400
    assert "signs in with its own account" in refused.text
    # Another organisation's person cannot be claimed through this provider.
    other = IdpUser("intruder", "approver.b@example.org", [APPROVERS])
    assert sign_in(requests.Session(), site, world.a.payer_id, other).status_code == 403


def _callback_of(response: requests.Response) -> str:
    """The provider's redirect back to Bridges (not followed)."""
    assert response.status_code == 302, response.text[:300]
    return response.headers["Location"]


def test_a_replayed_callback_is_refused(site: str, world: World, issuer: str) -> None:
    http = requests.Session()
    page = start(http, site, world.a.payer_id)
    user = IdpUser("nia-0003", "nia.three@nhs-a.example", [APPROVERS])
    callback = _callback_of(log_in_at_idp(http, page.url, user, follow=False))
    before = http.cookies.copy()
    assert http.get(callback, timeout=30).status_code == 200  # signed in, home page
    http.post(f"{site}/sign-out", data={"csrf_token": csrf_token(http, f"{site}/")}, timeout=30)
    assert "not started here" in _refused_because(http, callback)
    # The same callback with the sign-in's session cookie restored (a stolen browser state):
    # the state is back, but the provider does not redeem a code twice.
    stolen = requests.Session()
    stolen.cookies.update(before)
    assert "invalid_grant" in _refused_because(stolen, callback)
    assert http.get(f"{site}/approvals", allow_redirects=False, timeout=30).status_code == 302
    assert _person(world, "nia.three@nhs-a.example")["sign_ins"] == 1  # type: ignore[index]


def test_a_forged_state_is_refused(site: str, world: World, issuer: str) -> None:
    http = requests.Session()
    page = start(http, site, world.a.payer_id)
    user = IdpUser("nia-0004", "nia.four@nhs-a.example", [APPROVERS])
    callback = _callback_of(log_in_at_idp(http, page.url, user, follow=False))
    forged = _with(callback, state="forged-state")
    assert "MismatchingStateError" in _refused_because(http, forged)
    assert _person(world, "nia.four@nhs-a.example") is None
    # A callback no sign-in started here (another browser's) is refused too.
    assert "not started here" in _refused_because(requests.Session(), callback)
    assert _person(world, "nia.four@nhs-a.example") is None


def test_a_code_issued_for_another_nonce_is_refused(site: str, world: World, issuer: str) -> None:
    """The attacker logs in with the victim's authorization request but their own nonce: the
    PKCE challenge matches, the state is the victim's, the ID token's nonce is not."""
    victim = requests.Session()
    request_url = start(victim, site, world.a.payer_id).url
    attacker = requests.Session()
    user = IdpUser("mallory", "mallory@nhs-a.example", [FINANCE])
    forged_request = _with(request_url, nonce="attackers-nonce")
    attacker.get(forged_request, timeout=30)
    callback = _callback_of(log_in_at_idp(attacker, forged_request, user, follow=False))
    assert "nonce" in _refused_because(victim, callback)
    assert _person(world, "mallory@nhs-a.example") is None


def test_a_code_issued_for_another_pkce_challenge_is_refused(
    site: str, world: World, issuer: str
) -> None:
    """The same, with the nonce kept and the attacker's own PKCE challenge: the token endpoint
    refuses the victim's verifier."""
    victim = requests.Session()
    request_url = start(victim, site, world.a.payer_id).url
    attacker = requests.Session()
    user = IdpUser("mallory-2", "mallory.two@nhs-a.example", [FINANCE])
    forged_request = _with(
        request_url, code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    attacker.get(forged_request, timeout=30)
    callback = _callback_of(log_in_at_idp(attacker, forged_request, user, follow=False))
    assert "invalid_grant" in _refused_because(victim, callback)
    assert _person(world, "mallory.two@nhs-a.example") is None


def _refused_because(http: requests.Session, url: str) -> str:
    """GET the callback: it must be refused (400); the reason Bridges logged."""
    with capture_logs() as logs:
        response = http.get(url, timeout=30)
    assert response.status_code == 400, response.text[:300]
    reasons = [entry.get("error", "") for entry in logs if entry["event"] == "idp callback refused"]
    if not reasons:  # refused before Authlib ran: no sign-in was started in this session
        return "not started here"
    return str(reasons[-1])


def _with(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_operators_keep_their_password_and_cannot_be_claimed_by_a_provider(
    site: str, world: World, oidc_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.ledger.store.engine.connect() as connection:
        operator = connection.execute(
            select(people.c.id, people.c.organisation_id).where(
                people.c.email == "ops@bridges.example"
            )
        ).one()
    with world.ledger.store.unit_of_work() as uow:
        set_password(uow.connection, operator.id, "operators-own-password")
    configure_idp(
        world.ledger, operator.organisation_id, new_issuer(oidc_url), ROLE_MAP, monkeypatch
    )
    refused = sign_in(
        requests.Session(),
        site,
        operator.organisation_id,
        IdpUser("ops-at-idp", "ops@bridges.example", [APPROVERS]),
    )
    assert refused.status_code == 403 and "Operators sign in with their" in refused.text
    http = requests.Session()
    signed_in = http.post(
        f"{site}/sign-in",
        data={
            "csrf_token": csrf_token(http, f"{site}/sign-in"),
            "email": "ops@bridges.example",
            "password": "operators-own-password",
        },
        timeout=30,
    )
    assert signed_in.status_code == 200 and signed_in.url == f"{site}/"
