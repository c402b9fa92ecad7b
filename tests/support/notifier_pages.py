"""A ledger with the web pages and a REAL notifier API beside it, for the tests of the alerts,
statements and indicators pages (the integration tests through Flask's test client and the
browser tests in Chromium use the same scene).

The notifier's read model is built by consuming the ledger's real events (its feed, turned
into the Kafka records the relay would publish, applied with the consumer's `apply_batch`:
no broker needed), then `scheduler.check` raises the alerts as at today. The notifier API is
served by werkzeug in a thread on a free port of 127.0.0.1, and the ledger's web pages are
pointed at it with `LedgerSettings.notifier_url`. Both read the token key from one var
directory, so the ledger's minted tokens verify at the notifier.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, select, update
from werkzeug.serving import BaseWSGIServer, make_server

from services.ledger.api.app import create_app as create_ledger
from services.ledger.application import Ledger
from services.ledger.store.views import people
from services.ledger.web.passwords import hash_password
from services.notifier.api.app import create_app as create_notifier
from services.notifier.consumer import DeadLetter, apply_batch
from services.notifier.scheduler import check
from services.notifier.settings import NotifierSettings
from services.notifier.store import tables
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.events.wire import to_record
from shared.settings import LedgerSettings
from shared.sql import begin_write, make_engine
from tests.support.clock import MovableClock
from tests.support.ledger_events import fake_records
from tests.support.world import ApiClient, World, build_world

PASSWORD = "correct-horse-battery"  # noqa: S105 - test data
TODAY = date(2026, 11, 16)  # a Monday
START = date(2026, 6, 1)  # the partnership's history starts here


class Served:
    """A WSGI app served on 127.0.0.1 in a thread until `stop()`."""

    def __init__(self, app: Flask, name: str) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._server.server_close()


@dataclass
class Scene:
    """Two tenants in the ledger (people with passwords), their history in the notifier."""

    ledger_app: Flask
    ledger: Ledger
    world: World
    clock: MovableClock
    notifier_engine: Engine
    notifier: Served
    var_dir: Path
    ledger_url: str
    notifier_url: str
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)

    def email(self, role: str, tenant: str = "a") -> str:
        return f"{role}.{tenant}@example.org"

    def person_id(self, role: str, tenant: str = "a") -> str:
        return str(getattr(self.world, tenant).person_ids[role])

    def ledger_app_with_notifier_at(self, notifier_url: str) -> Flask:
        """Another web front end on the same ledger database, calling another notifier."""
        return create_ledger(
            LedgerSettings(
                database_url=self.ledger_url, var_dir=str(self.var_dir), notifier_url=notifier_url
            ),
            clock=self.clock,
            testing=True,
        )

    def serve_notifier(self) -> Served:
        """One more notifier API on the same read model (stop it to take it away)."""
        app = create_notifier(
            NotifierSettings(database_url=self.notifier_url),
            clock=self.clock,
            testing=True,
            var_dir=self.var_dir,
        )
        return Served(app, "bridges-notifier-extra")

    def alert_rows(self, partnership_id: str | None = None) -> list[Any]:
        query = select(tables.alerts).order_by(tables.alerts.c.raised_at.desc())
        if partnership_id is not None:
            query = query.where(tables.alerts.c.partnership_id == partnership_id)
        with self.notifier_engine.connect() as connection:
            return list(connection.execute(query))

    def close(self) -> None:
        self.notifier.stop()
        self.notifier_engine.dispose()
        self.ledger.store.engine.dispose()


def feed_notifier(ledger: Ledger, engine: Engine, clock: MovableClock) -> int:
    """Apply every ledger event to the notifier's read model, as its consumer would."""
    records = [to_record(event) for event in ledger.store.read_feed(0, 1_000_000)]
    poison: list[DeadLetter] = []

    def dead_letter(letters: Sequence[DeadLetter]) -> None:
        poison.extend(letters)

    with begin_write(engine) as connection:
        result = apply_batch(
            connection,
            fake_records(records),
            group="web-pages",
            now=clock(),
            dead_letter=dead_letter,
        )
    assert not poison, [letter.reason for letter in poison]
    return result.applied


def _history(world: World, clock: MovableClock) -> dict[str, dict[str, Any]]:
    """Tenant A over five and a half months: claims paid early, on time, late and in part,
    one queried, one rejected, one approved and due this week, one waiting past its approval
    date. Tenant B: one claim waiting past its approval date too."""
    a = world.a
    claims: dict[str, dict[str, Any]] = {}

    def at(day: date) -> None:
        clock.set(day)

    def paid(name: str, submitted: date, approved: date, paid_on: date) -> None:
        at(submitted)
        claim = world.submit(a, submitted)
        at(approved)
        claim = world.act(a, claim, "approve", "approver")
        at(paid_on)
        world.pay(a, claim, claim["amount_pence"], paid_on)
        claims[name] = claim

    paid("early", date(2026, 6, 1), date(2026, 6, 3), date(2026, 6, 10))
    paid("on_time", date(2026, 6, 15), date(2026, 6, 17), date(2026, 7, 10))
    paid("late", date(2026, 7, 1), date(2026, 7, 3), date(2026, 8, 20))
    paid("quick", date(2026, 8, 3), date(2026, 8, 4), date(2026, 8, 7))

    at(date(2026, 9, 1))
    part = world.submit(a, clock.today())
    queried = world.submit(a, clock.today())
    rejected = world.submit(a, clock.today())
    at(date(2026, 9, 3))
    part = world.act(a, part, "approve", "approver", {"amount_pence": 9000, "reason": "Receipts"})
    world.act(a, queried, "query", "approver", {"question": "Which ward?"})
    world.act(a, rejected, "reject", "approver", {"reason": "Outside the programme"})
    at(date(2026, 10, 13))
    world.pay(a, part, 4000, clock.today())
    claims.update(part=part, queried=queried, rejected=rejected)

    at(date(2026, 10, 20))
    due_soon = world.submit(a, clock.today())
    at(date(2026, 10, 22))
    claims["due_soon"] = world.act(a, due_soon, "approve", "approver")
    at(date(2026, 11, 2))
    claims["waiting"] = world.submit(a, clock.today())
    claims["tenant_b"] = world.submit(world.b, clock.today())
    at(TODAY)
    return claims


@contextmanager
def notifier_scene(
    sqlite_template: Path, folder: Path, *, notifier_url: str | None = None
) -> Iterator[Scene]:
    """Build the scene in `folder` (the ledger database copied from the migrated template)."""
    ledger_db = folder / "ledger.db"
    shutil.copyfile(sqlite_template, ledger_db)
    ledger_url = f"sqlite:///{ledger_db}"
    notifier_db_url = f"sqlite:///{folder / 'notifier.db'}"
    upgrade_notifier(notifier_db_url)
    var_dir = folder / "var"
    clock = MovableClock(START)
    notifier_app = create_notifier(
        NotifierSettings(database_url=notifier_db_url), clock=clock, testing=True, var_dir=var_dir
    )
    notifier = Served(notifier_app, "bridges-notifier")
    engine = make_engine(notifier_db_url)
    try:
        app = create_ledger(
            LedgerSettings(
                database_url=ledger_url,
                var_dir=str(var_dir),
                notifier_url=notifier_url or notifier.url,
            ),
            clock=clock,
            testing=True,
        )
        ledger: Ledger = app.extensions["bridges.ledger"]
        world = build_world(ApiClient(app.test_client()), ledger, START)
        everyone = [i for tenant in (world.a, world.b) for i in tenant.person_ids.values()]
        with ledger.store.engine.begin() as connection:  # one argon2 hash for all: it is slow
            connection.execute(
                update(people)
                .where(people.c.id.in_(everyone))
                .values(password_hash=hash_password(PASSWORD))
            )
        claims = _history(world, clock)
        feed_notifier(ledger, engine, clock)
        raised = check(engine, clock.today(), clock())
        assert raised, "the history should raise alerts"
        scene = Scene(
            ledger_app=app,
            ledger=ledger,
            world=world,
            clock=clock,
            notifier_engine=engine,
            notifier=notifier,
            var_dir=var_dir,
            ledger_url=ledger_url,
            notifier_url=notifier_db_url,
            claims=claims,
        )
    except BaseException:
        notifier.stop()
        engine.dispose()
        raise
    try:
        yield scene
    finally:
        scene.close()


def pence(text: str) -> int:
    """'£1,234.56' (or '-£1.00', '−£1.00') → pence."""
    cleaned = text.strip().replace(",", "").replace("−", "-").replace("£", "")
    negative = cleaned.startswith("-")
    pounds, _, rest = cleaned.lstrip("+-").partition(".")
    value = int(pounds) * 100 + int((rest or "0").ljust(2, "0")[:2])
    return -value if negative else value
