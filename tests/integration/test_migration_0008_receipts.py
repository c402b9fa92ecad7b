"""Migration 0008 (receipts, queue standing): agreements signed before it get their nation
from their AgreementSigned events, so the approval SLA's working days count the right bank
holidays from the first request after the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from services.ledger.store import EventStore
from services.ledger.store.migrate import MIGRATIONS_DIR
from shared import migrations
from shared.events.envelope import NewEvent
from shared.sql import make_engine

NOW = datetime(2026, 11, 16, 10, tzinfo=UTC)


def test_the_nation_of_existing_agreements_is_backfilled(empty_database_url: str) -> None:
    migrations.upgrade(MIGRATIONS_DIR, empty_database_url, "0007")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            for org, kind in (("icb", "statutory"), ("hope", "vcse")):
                connection.execute(
                    text(
                        "INSERT INTO organisations (id, name, kind, registered_at) "
                        "VALUES (:id, :id, :kind, :now)"
                    ),
                    {"id": org, "kind": kind, "now": NOW},
                )
            connection.execute(
                text("INSERT INTO partnerships (id, name, formed_at) VALUES ('p1', 'P', :now)"),
                {"now": NOW},
            )
            for agreement in ("a-wales", "a-scotland"):
                connection.execute(
                    text(
                        "INSERT INTO agreements (id, partnership_id, payer_id, payee_id, version)"
                        " VALUES (:id, 'p1', 'icb', 'hope', 1)"
                    ),
                    {"id": agreement},
                )
        store = EventStore(engine)
        for agreement, nation in (("a-wales", "wales"), ("a-scotland", "scotland")):
            with store.unit_of_work() as uow:
                uow.append(
                    f"agreement-{agreement}",
                    0,
                    [NewEvent("AgreementSigned", {"agreement_id": agreement, "nation": nation})],
                    partition_key="p1",
                )
        migrations.upgrade(MIGRATIONS_DIR, empty_database_url)
        with engine.connect() as connection:
            nations = dict(connection.execute(text("SELECT id, nation FROM agreements")).all())
            receipts = connection.execute(text("SELECT count(*) FROM receipts")).scalar()
        assert nations == {"a-wales": "wales", "a-scotland": "scotland"}
        assert receipts == 0
    finally:
        engine.dispose()
