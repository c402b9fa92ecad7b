"""Fixtures for the ledger API: the app on a fresh database, a movable clock, two tenants."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from services.ledger.api.app import create_app
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, World, build_world

TODAY = date(2026, 11, 16)  # a Monday


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(TODAY)


@pytest.fixture
def app(sqlite_url: str, clock: MovableClock) -> Flask:
    return create_app(LedgerSettings(database_url=sqlite_url), clock=clock, testing=True)


@pytest.fixture
def api(app: Flask) -> ApiClient:
    return ApiClient(app.test_client())


@pytest.fixture
def world(app: Flask, api: ApiClient, clock: MovableClock) -> World:
    return build_world(api, app.extensions["bridges.ledger"], clock.today())
