"""The web forms through Flask's test client: two tenants, passwords, a movable clock."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from services.ledger.api.app import create_app
from services.ledger.store.views import people
from services.ledger.web.passwords import hash_password
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, World, build_world

TODAY = date(2026, 11, 16)  # a Monday
PASSWORD = "correct-horse-battery"  # noqa: S105 - test data
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(TODAY)


@pytest.fixture
def app(sqlite_url: str, clock: MovableClock) -> Flask:
    return create_app(LedgerSettings(database_url=sqlite_url), clock=clock, testing=True)


@pytest.fixture
def world(app: Flask, clock: MovableClock) -> World:
    ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, clock.today())
    everyone = [i for tenant in (world.a, world.b) for i in tenant.person_ids.values()]
    with ledger.store.engine.begin() as connection:  # one argon2 hash for all: it is slow
        connection.execute(
            update(people)
            .where(people.c.id.in_(everyone))
            .values(password_hash=hash_password(PASSWORD))
        )
    return world


class Browser:
    """A test client that signs in and posts forms with the page's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, path: str) -> str:
        page = self.client.get(path)
        match = _TOKEN.search(page.get_data(as_text=True))
        assert match, (path, page.status_code)
        return match.group(1)

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        return self.client.post(
            "/sign-in",
            data={"csrf_token": self.token("/sign-in"), "email": email, "password": password},
        )

    def post(self, path: str, data: dict[str, Any], form_page: str | None = None) -> Any:
        token = self.token(form_page or path)
        return self.client.post(path, data={"csrf_token": token, **data})

    def text(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)


@pytest.fixture
def browser_for(app: Flask, world: World) -> Any:
    def make(role: str, tenant: str = "a") -> Browser:
        browser = Browser(app.test_client())
        response = browser.sign_in(f"{role}.{tenant}@example.org")
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return browser

    return make
