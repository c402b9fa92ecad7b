"""The sign-in attempt limit is one count for every worker and process on a database: two
ledger apps (as two gunicorn workers, each with its own memory) share it."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from services.ledger.api.app import create_app
from services.ledger.application import Ledger
from services.ledger.store.access_tables import sign_in_failures, sign_ins
from services.ledger.web.passwords import set_password
from shared.settings import LedgerSettings
from tests.integration.web.conftest import PASSWORD, Browser
from tests.support.clock import MovableClock

EMAIL = "fin.officer@icb.example"


def _two_workers(database_url: str, clock: MovableClock) -> tuple[Flask, Flask]:
    settings = LedgerSettings(database_url=database_url, login_max_failures=5)
    first = create_app(settings, clock=clock, testing=True)
    second = create_app(settings, clock=clock, testing=True)
    ledger: Ledger = first.extensions["bridges.ledger"]
    with ledger.store.unit_of_work() as uow:
        icb = ledger.register_organisation(uow, None, {"name": "ICB", "kind": "statutory"})
        person = ledger.add_person(
            uow, None, icb["id"], {"name": "Fin", "email": EMAIL, "roles": ["finance"]}
        )
        set_password(uow.connection, person["id"], PASSWORD)
    return first, second


def _attempt(app: Flask, password: str) -> tuple[int, str | None]:
    response = Browser(app.test_client()).sign_in(EMAIL, password)
    return response.status_code, response.headers.get("Retry-After")


def test_two_app_instances_share_one_count(database_url: str, clock: MovableClock) -> None:
    first, second = _two_workers(database_url, clock)
    statuses = [_attempt(app, "wrong-guess")[0] for app in (first, second, first, second, first)]
    assert statuses == [400] * 5  # three failures in one worker, two in the other
    # Each worker alone has seen fewer than five: the shared count refuses both, even the
    # right password, and says when to try again.
    assert _attempt(second, PASSWORD) == (429, "900")
    assert _attempt(first, "wrong-guess") == (429, "900")

    clock.now += timedelta(seconds=900)  # the oldest failure leaves the window
    assert _attempt(first, "wrong-guess")[0] == 400
    assert _attempt(second, PASSWORD)[0] == 302
    engine = first.extensions["bridges.ledger"].store.engine
    with engine.connect() as connection:
        # Success clears the pair's count; rows past the window were pruned.
        assert connection.execute(select(func.count()).select_from(sign_in_failures)).scalar() == 0
        assert connection.execute(select(sign_ins.c.method)).scalars().all() == ["password"]
