"""The notifier tolerates the e-invoice events (InvoiceIssued, OrganisationIdentifiersRecorded):
applied with the rest of the ledger's history, none dead-lettered, the read model unchanged."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from services.notifier.consumer import DeadLetter
from services.notifier.store.tables import claims
from tests.integration.notifier.test_consumer_batches import consume
from tests.support.ledger_events import fake_records, ledger_history

START = date(2026, 9, 1)


def test_invoice_events_are_applied_and_change_no_claim(
    notifier_engine: Engine, sqlite_url: str
) -> None:
    history = ledger_history(sqlite_url, START)
    world, a = history.world, history.world.a
    for organisation_id, gln in ((a.payee_id, "0088:5012345000008"), (a.payer_id, None)):
        body = {"peppol_id": gln} if gln else {"vat_number": "GB123456789"}
        world.api.ok("PATCH", f"/organisations/{organisation_id}", world.operator_token, body)
    approved = world.api.ok("GET", "/claims?status=paid", a.tokens["vcse_member"])["items"][0]
    world.api.ok("POST", f"/claims/{approved['id']}/invoice", a.tokens["vcse_member"], {})
    history.refresh()
    types = [event.type for event in history.events]
    assert "InvoiceIssued" in types and "OrganisationIdentifiersRecorded" in types
    letters: list[DeadLetter] = []
    result = consume(notifier_engine, fake_records(history.records()), letters)
    assert letters == [] and result.applied == len(history.events)
    with notifier_engine.connect() as connection:
        statuses = sorted(connection.execute(select(claims.c.status)).scalars())
    assert statuses == ["paid", "part_paid", "queried", "rejected", "submitted"]
