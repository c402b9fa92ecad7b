"""The local OpenID Connect provider (deploy/local/oidc.sh: mock-oauth2-server) and the ledger
served over real HTTP, for the "sign in with your organisation's account" tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from services.ledger.application import Ledger
from services.ledger.identity import save_provider

REPO_ROOT = Path(__file__).resolve().parents[2]
OIDC_SCRIPT = REPO_ROOT / "deploy" / "local" / "oidc.sh"
OIDC_URL_ENV = "BRIDGES_TEST_OIDC_URL"
SECRET_ENV = "BRIDGES_TEST_IDP_SECRET"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def oidc_base_url() -> str:
    """The provider's base URL: $BRIDGES_TEST_OIDC_URL (test.sh sets it), else the script
    starts this checkout's provider."""
    url = os.environ.get(OIDC_URL_ENV)
    if url:
        return url.rstrip("/")
    result = subprocess.run(
        ["bash", str(OIDC_SCRIPT), "up"], capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"oidc.sh up failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return subprocess.run(
        ["bash", str(OIDC_SCRIPT), "url"], capture_output=True, text=True, check=True
    ).stdout.strip()


def new_issuer(base_url: str) -> str:
    """A fresh issuer (the provider serves any path as a tenant): tests do not share links."""
    return f"{base_url}/nhs-{uuid.uuid4().hex[:12]}"


def configure_idp(
    ledger: Ledger,
    organisation_id: str,
    issuer: str,
    role_map: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, "local-test-secret")
    with ledger.store.unit_of_work() as uow:
        save_provider(
            uow.connection,
            ledger.clock(),
            organisation_id,
            "statutory",
            issuer=issuer,
            client_id="bridges-test",
            client_secret_ref=f"env:{SECRET_ENV}",
            groups_claim="groups",
            role_map=role_map,
        )


def reached_at(ledger: Ledger, url: str) -> None:
    """Make `url` the address people use to reach this ledger (BRIDGES_LEDGER_URL), known only
    once the test server has its port."""
    ledger.settings = replace(ledger.settings, public_url=url)


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app on 127.0.0.1 (a real HTTP server: the provider redirects a browser to it)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bridges-idp-web", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    reached_at(app.extensions["bridges.ledger"], url)
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass
class IdpUser:
    subject: str
    email: str
    groups: list[str]
    name: str = "Nia Nurse"

    def claims(self) -> str:
        return json.dumps({"email": self.email, "name": self.name, "groups": self.groups})


def start(http: requests.Session, site: str, organisation_id: str) -> requests.Response:
    """Press the organisation's button: the provider's login page (its URL is the
    authorization request Bridges made)."""
    page = http.get(f"{site}/sign-in/idp/{organisation_id}", timeout=30)
    assert page.status_code == 200 and 'name="username"' in page.text, page.text[:500]
    return page


def log_in_at_idp(
    http: requests.Session, login_page_url: str, user: IdpUser, *, follow: bool = True
) -> requests.Response:
    """Fill in the provider's login form as a person would."""
    return http.post(
        login_page_url,
        data={"username": user.subject, "claims": user.claims()},
        allow_redirects=follow,
        timeout=30,
    )


def sign_in(http: requests.Session, site: str, organisation_id: str, user: IdpUser) -> Any:
    page = start(http, site, organisation_id)
    return log_in_at_idp(http, page.url, user)


def csrf_token(http: requests.Session, url: str) -> str:
    match = CSRF.search(http.get(url, timeout=30).text)
    assert match
    return unescape(match.group(1))
