"""Both services over one world: the ledger (API and web pages) with two tenants built through
its API, and a real notifier whose read model is rebuilt from the ledger's feed, served over
loopback HTTP so the ledger's pages reach it as in production. Tokens are shared (one key
folder), as in a deployment."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, select
from werkzeug.serving import make_server

from services.ledger.api.app import create_app as create_ledger
from services.ledger.store import upgrade as upgrade_ledger
from services.notifier.alerts.evaluate import evaluate
from services.notifier.api.app import create_app as create_notifier
from services.notifier.ops import rebuild_from_feed
from services.notifier.settings import NotifierSettings
from services.notifier.store.migrate import upgrade as upgrade_notifier
from services.notifier.store.tables import alerts
from shared.settings import LedgerSettings
from shared.sql import begin_write, make_engine
from tests.support.clock import MovableClock
from tests.support.receipts import png_with_text
from tests.support.world import ApiClient, Tenant, World, build_world

# Alerts are raised when the feed is applied this long after the claims were submitted.
ALERTS_AFTER = timedelta(days=60)


@dataclass
class Ids:
    """One tenant's resources, by the name of the URL parameter that carries them."""

    claim: dict[str, Any]
    payment: dict[str, Any]
    alert_id: str


@dataclass
class TwoServices:
    world: World
    ledger: Flask
    notifier: Flask
    notifier_engine: Engine
    ids: dict[str, Ids]  # tenant name -> its resources

    def tenant(self, name: str) -> Tenant:
        return self.world.a if name == "a" else self.world.b


def _alert_of(engine: Engine, partnership_id: str) -> str:
    with engine.connect() as connection:
        found = connection.execute(
            select(alerts.c.id).where(alerts.c.partnership_id == partnership_id).limit(1)
        ).scalar()
    assert found, f"no alert was raised in partnership {partnership_id}"
    return str(found)


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app on a free loopback port in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def two_services(folder: Path, clock: MovableClock) -> Iterator[TwoServices]:
    notifier_url = f"sqlite:///{folder / 'notifier.db'}"
    upgrade_notifier(notifier_url)
    notifier_engine = make_engine(notifier_url)
    later = datetime.combine(clock.today() + ALERTS_AFTER, time(9), tzinfo=UTC)
    notifier = create_notifier(
        NotifierSettings(database_url=notifier_url),
        clock=lambda: later,
        testing=True,
        var_dir=folder,
    )
    ledger_url = f"sqlite:///{folder / 'ledger.db'}"
    upgrade_ledger(ledger_url)
    with serve(notifier) as notifier_base:
        ledger = create_ledger(
            LedgerSettings(
                database_url=ledger_url,
                var_dir=str(folder),
                notifier_url=notifier_base,
            ),
            clock=clock,
            testing=True,
        )
        world = build_world(
            ApiClient(ledger.test_client()), ledger.extensions["bridges.ledger"], clock.today()
        )
        ids: dict[str, Ids] = {}
        for tenant in (world.a, world.b):
            world.submit(tenant, clock.today())
            approved = world.act(tenant, world.submit(tenant, clock.today()), "approve", "approver")
            payment = world.pay(tenant, approved, 1000, clock.today())
            ids[tenant.name] = Ids(world.submit(tenant, clock.today()), payment, "")
        store = world.ledger.store
        rebuild_from_feed(notifier_engine, store.read_feed, now=lambda: later)
        with begin_write(notifier_engine) as connection:  # the daily sweep, 60 days on
            evaluate(connection, later.date(), later)
        for tenant in (world.a, world.b):
            ids[tenant.name].alert_id = _alert_of(notifier_engine, tenant.partnership_id)
        try:
            yield TwoServices(world, ledger, notifier, notifier_engine, ids)
        finally:
            notifier_engine.dispose()


GLNS = {
    "a": ("0088:5012345000008", "0088:5098765000002"),
    "b": ("0088:4000001000005", "0088:4000002000004"),
}


def invoiced_claim(s: TwoServices, tenant: Tenant, today: date) -> dict[str, str]:
    """An approved claim of `tenant` with a receipt, and the e-invoice that covers it (both of
    its organisations get a Peppol id): the ids of the routes under /invoices and receipts."""
    world = s.world
    for organisation_id, peppol_id in zip(
        (tenant.payee_id, tenant.payer_id), GLNS[tenant.name], strict=True
    ):
        world.api.ok(
            "PATCH",
            f"/organisations/{organisation_id}",
            world.operator_token,
            {"peppol_id": peppol_id},
        )
    receipt = world.api.ok(
        "POST",
        "/receipts",
        tenant.tokens["vcse_member"],
        data={"file": (io.BytesIO(png_with_text()), "receipt.png", "image/png")},
        content_type="multipart/form-data",
    )
    body = world.claim_body(tenant, today)
    body["expenses"][0]["receipts"] = [receipt["id"]]
    claim = world.api.ok("POST", "/claims", tenant.tokens["vcse_member"], body)
    claim = world.act(tenant, claim, "approve", "approver")
    invoice = world.api.ok(
        "POST", f"/claims/{claim['id']}/invoice", tenant.tokens["vcse_member"], {}
    )
    return {"claim_id": claim["id"], "sha256": receipt["id"], "invoice_id": invoice["id"]}
