"""The consumer's batch transaction without a broker: read model, dedupe, offsets, dead
letters; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select

from services.notifier.consumer import DeadLetter, apply_batch, stored_offsets
from services.notifier.store.read_model import load_claims
from services.notifier.store.tables import claims, organisations, people, processed_events
from shared.sql import begin_write
from tests.support.ledger_events import FakeRecord, fake_records, ledger_history

START = date(2026, 9, 1)
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def consume(engine: Engine, records: list[Any], letters: list[DeadLetter] | None = None) -> Any:
    with begin_write(engine) as connection:
        return apply_batch(
            connection,
            records,
            group="notifier",
            now=NOW,
            dead_letter=(letters.extend if letters is not None else lambda batch: None),
        )


def test_a_batch_builds_the_read_model_and_records_offsets(
    notifier_engine: Engine, sqlite_url: str
) -> None:
    history = ledger_history(sqlite_url, START)
    records = fake_records(history.records())
    result = consume(notifier_engine, records)
    assert result.applied == len(history.events)
    with notifier_engine.connect() as connection:
        names = set(connection.execute(select(organisations.c.name)).scalars())
        assert {"ICB A", "Charity A", "ICB B", "Charity B"} <= names
        assert connection.execute(select(people.c.id)).all()
        statuses = sorted(connection.execute(select(claims.c.status)).scalars())
        assert statuses == ["paid", "part_paid", "queried", "rejected", "submitted"]
        offsets = stored_offsets(connection, "notifier", "t")
        assert sum(offsets.values()) == len(records)
        timelines = {t.claim_id: t for t in load_claims(connection)}
    part_paid = next(
        t
        for t in timelines.values()
        if t.state_as_at(date(2026, 11, 1)).status == "part_paid"  # type: ignore[union-attr]
    )
    state = part_paid.state_as_at(date(2026, 11, 1))
    assert state is not None and state.outstanding_pence == 5000


def test_duplicates_on_the_topic_are_applied_once(notifier_engine: Engine, sqlite_url: str) -> None:
    history = ledger_history(sqlite_url, START)
    records = fake_records(history.records())
    consume(notifier_engine, records[:20])
    # The relay republished from an earlier position: the same events again, new offsets.
    again = fake_records(history.records() + history.records())
    result = consume(notifier_engine, again)
    assert result.applied == len(records) - 20
    assert result.duplicates == len(records) + 20
    with notifier_engine.connect() as connection:
        count = len(connection.execute(select(processed_events.c.event_id)).all())
    assert count == len(records)


def test_poison_records_are_dead_lettered_and_the_rest_applied(
    notifier_engine: Engine, sqlite_url: str
) -> None:
    history = ledger_history(sqlite_url, START)
    good = fake_records(history.records())
    poison = [
        FakeRecord("t", 5, 1000, b"k", b"{not json", good[0].headers),
        FakeRecord("t", 5, 1001, b"k", good[0].value, [("ce_specversion", b"1.0")]),
        FakeRecord(
            "t",
            5,
            1002,
            b"k",
            b"{}",
            [
                *[(n, v) for n, v in good[0].headers if n != "ce_type"],
                ("ce_type", b"uk.bridges.ledger.ClaimTeleported.v1"),
            ],
        ),
        FakeRecord(
            "t",
            5,
            1003,
            b"k",
            good[0].value,
            [
                *[(n, v) for n, v in good[0].headers if n != "ce_type"],
                ("ce_type", b"uk.bridges.ledger.OrganisationRegistered.v2"),
            ],
        ),
    ]
    letters: list[DeadLetter] = []
    result = consume(notifier_engine, [*good[:5], *poison, *good[5:]], letters)
    assert result.dead_lettered == 4
    reasons = [letter.reason for letter in letters]
    assert "not JSON" in reasons[0]
    assert "missing header" in reasons[1]
    assert "unknown event type" in reasons[2]
    assert "schema version" in reasons[3]
    assert result.applied == len(good)
    with notifier_engine.connect() as connection:
        assert stored_offsets(connection, "notifier", "t")[5] == 1004


def test_a_failed_batch_leaves_nothing_behind(notifier_engine: Engine, sqlite_url: str) -> None:
    history = ledger_history(sqlite_url, START)
    records = fake_records(history.records())

    def broken_dead_letter(batch: Any) -> None:
        raise RuntimeError("broker unavailable")

    poison = FakeRecord("t", 0, 999, b"k", b"nope", records[0].headers)
    try:
        with begin_write(notifier_engine) as connection:
            apply_batch(
                connection,
                [*records, poison],
                group="notifier",
                now=NOW,
                dead_letter=broken_dead_letter,
            )
    except RuntimeError:
        pass
    with notifier_engine.connect() as connection:
        assert connection.execute(select(processed_events.c.event_id)).first() is None
        assert stored_offsets(connection, "notifier", "t") == {}
