"""The consumer's batch transaction without a broker: read model, dedupe, offsets, dead
letters; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, event, select

from services.ledger.people import erase_person
from services.notifier.consumer import DeadLetter, apply_batch, stored_offsets
from services.notifier.runner import raise_alerts_for
from services.notifier.store.read_model import load_claims, load_claims_by_id
from services.notifier.store.tables import (
    agreements,
    alerts,
    claims,
    deliveries,
    organisations,
    payments,
    people,
    processed_events,
)
from shared.events.catalogue import to_data
from shared.events.envelope import StoredEvent
from shared.events.types import (
    AgreementSigned,
    Allocation,
    ClaimApproved,
    ClaimLine,
    ClaimSubmitted,
    PaymentRecorded,
    RateCard,
)
from shared.events.wire import to_record
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


def claims_records(count: int, partnerships: int = 10) -> list[Any]:
    """Per claim a ClaimSubmitted, a ClaimApproved and a part payment, over `partnerships`
    partnerships with a budgeted agreement each, as the relay publishes them."""
    facts: list[tuple[str, object]] = []
    for n in range(partnerships):
        facts.append(
            (
                f"agreement-{n}",
                AgreementSigned(
                    agreement_id=f"agreement-{n}",
                    partnership_id=f"partnership-{n}",
                    payer_id=f"payer-{n}",
                    payee_id=f"payee-{n}",
                    nation="england",
                    starts_on=START,
                    ends_on=date(2027, 8, 31),
                    rates=RateCard(hourly_pence=2500, half_day_pence=8000),
                    budget_pence=count * 8000,
                    payment_terms_days=30,
                    approval_sla_working_days=5,
                    reminder_schedule=(7, 14),
                ),
            )
        )
    for n in range(count):
        claim_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"claim-{n}"))
        partnership = n % partnerships
        facts += [
            (
                f"claim-{claim_id}",
                ClaimSubmitted(
                    claim_id=claim_id,
                    agreement_id=f"agreement-{partnership}",
                    partnership_id=f"partnership-{partnership}",
                    payer_id=f"payer-{partnership}",
                    payee_id=f"payee-{partnership}",
                    submitted_by="worker",
                    submitted_on=START,
                    lines=(
                        ClaimLine(START, Decimal(3), "co_design", "A", "Talk", 8000, "half_day"),
                    ),
                    expenses=(),
                    amount_pence=8000,
                    approval_due=START + timedelta(days=7),
                    payment_due=START + timedelta(days=30),
                ),
            ),
            (
                f"claim-{claim_id}",
                ClaimApproved(claim_id, "approver", START + timedelta(days=2), 8000, 8000, None),
            ),
            (
                f"payment-{n}",
                PaymentRecorded(
                    payment_id=f"payment-{n}",
                    partnership_id=f"partnership-{partnership}",
                    payer_id=f"payer-{partnership}",
                    payee_id=f"payee-{partnership}",
                    recorded_by="finance",
                    paid_on=START + timedelta(days=20),
                    reference=f"BACS {n}",
                    amount_pence=4000,
                    allocations=(Allocation(claim_id, 4000),),
                ),
            ),
        ]
    stored = []
    for position, (stream, fact) in enumerate(facts, start=1):
        kind, version, data = to_data(fact)  # type: ignore[arg-type]
        stored.append(
            StoredEvent(
                global_position=position,
                event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"event-{position}"),
                type=kind,
                schema_version=version,
                stream_id=stream,
                stream_version=1,
                partition_key=str(data.get("partnership_id")),
                occurred_at=NOW,
                actor="test",
                correlation_id=None,
                causation_id=None,
                data=data,
            )
        )
    return fake_records([to_record(event) for event in stored], partitions=6)


def statements_of_one_batch(engine: Engine, records: list[Any], after_batch: Any) -> int:
    counted: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with begin_write(engine) as connection:
            result = apply_batch(
                connection,
                records,
                group="notifier",
                now=NOW,
                dead_letter=lambda batch: None,
                after_batch=after_batch,
            )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert result.applied == len(records)
    return len([s for s in counted if not s.upper().startswith(("BEGIN", "COMMIT"))])


def test_a_batch_costs_a_few_statements_whatever_its_size(notifier_engine: Engine) -> None:
    """One statement per table per batch (claims read in one query, rows written with one
    multi-row statement each, the alert rules' reads and inserts for all the batch's claims
    at once): a batch of 300 events costs what a batch of 60 does, not 5 times more."""
    counts = {}
    for size in (20, 100):
        with begin_write(notifier_engine) as connection:
            for table in (alerts, deliveries, claims, payments, agreements, processed_events):
                connection.execute(table.delete())
        counts[size] = statements_of_one_batch(
            notifier_engine, claims_records(size), raise_alerts_for
        )
    assert counts[100] == counts[20], counts
    assert counts[100] <= 25, counts


def test_the_alert_rules_see_the_claims_as_their_rows_now_read(
    notifier_engine: Engine, sqlite_url: str
) -> None:
    """The after-batch hook reads the batch's claims from the projection's memory
    (load_claims_by_id): exactly what reading the rows back in that transaction gives,
    including claims an erasure in the same batch scrubbed after they changed."""
    history = ledger_history(sqlite_url, START)
    records = fake_records(history.records())
    erase_person(history.world.ledger, None, history.world.a.person_ids["vcse_member"])
    history.refresh()
    erasure = fake_records(history.records())[-1]
    assert history.events[-1].type == "PersonalDataErased"
    # The erasure inside the batch, with one claim event after it.
    batch = [
        *records[:-1],
        FakeRecord("t", 0, 10_000, erasure.key, erasure.value, erasure.headers),
        records[-1],
    ]
    checked: list[str] = []

    def compare(connection: Any, claim_ids: list[str], as_of: date, now: datetime) -> None:
        from_memory = load_claims_by_id(connection, claim_ids)
        assert from_memory  # the batch's claims were held in memory, not read back
        from_rows = load_claims(connection, claim_ids=claim_ids)
        assert {t.claim_id: t for t in from_memory} == {t.claim_id: t for t in from_rows}
        checked.extend(claim_ids)
        raise_alerts_for(connection, claim_ids, as_of, now)

    with begin_write(notifier_engine) as connection:
        apply_batch(
            connection,
            batch,
            group="notifier",
            now=NOW,
            dead_letter=lambda batch: None,
            after_batch=compare,
        )
    assert checked
