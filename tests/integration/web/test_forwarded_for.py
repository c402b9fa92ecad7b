"""Behind the reverse proxy every request comes from the proxy's address. With
`BRIDGES_TRUSTED_PROXIES` set to the number of proxies, the sign-in limit counts each client by
its own address (from `X-Forwarded-For`), so one client's failures do not lock out the others;
an address a client writes into the header itself is not believed."""

from __future__ import annotations

import pytest
from flask import Flask

from services.ledger.api.app import create_app
from shared.settings import LedgerSettings
from tests.integration.web.conftest import Browser
from tests.support.clock import MovableClock
from tests.support.world import World

PROXY = "10.0.0.5"
MALLORY = "203.0.113.7"
ALICE = "198.51.100.9"


def _app(sqlite_url: str, clock: MovableClock, trusted_proxies: int) -> Flask:
    return create_app(
        # Two failures lock an address out (each wrong password costs an argon2 hash).
        LedgerSettings(
            database_url=sqlite_url, trusted_proxies=trusted_proxies, login_max_failures=2
        ),
        clock=clock,
        testing=True,
    )


def _through_proxy(app: Flask, forwarded_for: str) -> Browser:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for})
    return Browser(client)


def _guess(app: Flask, forwarded_for: str, email: str, times: int) -> list[int]:
    browser = _through_proxy(app, forwarded_for)
    return [browser.sign_in(email, "wrong password").status_code for _ in range(times)]


@pytest.mark.parametrize("trusted_proxies", [1, 0], ids=["trusted", "untrusted"])
def test_the_sign_in_limit_counts_the_client_behind_the_proxy(
    sqlite_url: str, clock: MovableClock, world: World, trusted_proxies: int
) -> None:
    app = _app(sqlite_url, clock, trusted_proxies)
    email = "approver.a@example.org"
    assert _guess(app, MALLORY, email, 3) == [400, 400, 429]

    alice = _through_proxy(app, ALICE).sign_in(email)
    if trusted_proxies:
        assert alice.status_code == 302  # her address has no failures
    else:
        assert alice.status_code == 429  # every client is the proxy: she is locked out too


def test_an_address_the_client_writes_itself_is_not_believed(
    sqlite_url: str, clock: MovableClock, world: World
) -> None:
    """nginx appends the address it saw; only that one (the last) is the proxy's word."""
    app = _app(sqlite_url, clock, 1)
    email = "approver.a@example.org"
    assert _guess(app, f"192.0.2.1, {MALLORY}", email, 2) == [400, 400]
    # Mallory writes a new address before nginx's each time: still counted as Mallory.
    assert _guess(app, f"192.0.2.99, {MALLORY}", email, 1) == [429]


def test_the_request_sees_the_client_scheme_and_host(sqlite_url: str, clock: MovableClock) -> None:
    app = _app(sqlite_url, clock, 1)

    @app.get("/_whoami")
    def whoami() -> dict[str, str]:
        from flask import request

        return {"remote": str(request.remote_addr), "url": request.host_url}

    client = app.test_client()
    seen = client.get(
        "/_whoami",
        environ_base={"REMOTE_ADDR": PROXY},
        headers={
            "X-Forwarded-For": ALICE,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "bridges.example.org",
        },
    ).get_json()
    assert seen == {"remote": ALICE, "url": "https://bridges.example.org/"}
