"""Statements end to end on a migrated notifier database.

Histories are decided by the ledger's own pure domain (so every event is one the ledger would
write), applied to the notifier's read model through `projection.apply_event`, and the
ledger's balances are computed from the same events for comparison.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Connection, Engine, func, insert, select

from services.ledger.domain.agreement import Agreement, sign_agreement
from services.ledger.domain.balances import organisation_balance
from services.ledger.domain.claim import Claim, ClaimHistoryEvent, submit_claim
from services.ledger.domain.organisation import Organisation
from services.ledger.domain.partnership import Partnership
from services.ledger.domain.payment import Payment, record_payment
from services.notifier.indicators import Period, Scope
from services.notifier.indicators.load import indicators_for
from services.notifier.interest import BaseRate, BaseRateHistory
from services.notifier.projection import apply_event
from services.notifier.statements import (
    UnknownStatementScope,
    first_working_day,
    monthly_statements,
    produce_statement,
    render,
)
from services.notifier.store.migrate import upgrade
from services.notifier.store.tables import statements, subscriptions
from shared.events.envelope import StoredEvent
from shared.events.types import OrganisationRegistered, PartnershipFormed, PaymentRecorded
from shared.sql import begin_write, make_engine

RATES = BaseRateHistory((BaseRate(date(2024, 1, 1), Decimal("4.00")),))
NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
RATE_CARD = {"hourly_pence": 2500, "half_day_pence": 8000, "day_pence": 15000}
ACTIVITIES = ("meeting", "co_design", "peer_learning", "training", "preparation")


@pytest.fixture
def engine(empty_sqlite_url: str) -> Iterator[Engine]:
    upgrade(empty_sqlite_url)
    engine = make_engine(empty_sqlite_url)
    yield engine
    engine.dispose()


class History:
    """One partnership's facts, decided by the ledger's domain and projected by the notifier."""

    def __init__(self, connection: Connection, *, nation: str = "england") -> None:
        self.connection = connection
        self.position = 0
        self.claims: dict[str, list[ClaimHistoryEvent]] = {}
        self.payments: dict[str, PaymentRecorded] = {}
        self.reversed: set[str] = set()
        suffix = uuid.uuid4().hex[:6]
        payer = Organisation(f"icb-{suffix}", "North ICB", "statutory")
        payee = Organisation(f"hope-{suffix}", "Hope Street Community Trust", "vcse")
        partnership = Partnership(f"p-{suffix}", "Northside", (payer.id, payee.id))
        for organisation in (payer, payee):
            self.emit(
                OrganisationRegistered(organisation.id, organisation.name, organisation.kind),
                date(2025, 10, 1),
            )
        self.emit(
            PartnershipFormed(partnership.id, partnership.name, partnership.organisation_ids),
            date(2025, 10, 1),
        )
        signed = sign_agreement(
            f"a-{suffix}",
            partnership,
            payer_id=payer.id,
            payee_id=payee.id,
            organisations={payer.id: payer, payee.id: payee},
            nation=nation,
            starts_on="2025-10-01",
            ends_on="2027-03-31",
            rates=RATE_CARD,
        )
        self.emit(signed, date(2025, 10, 1))
        self.agreement = Agreement.replay([signed])
        self.partnership_id = partnership.id
        self.payer_id = payer.id
        self.payee_id = payee.id

    # ---- events in, both sides -----------------------------------------------------------

    def emit(self, event: Any, on: date) -> None:
        self.position += 1
        envelope = StoredEvent(
            global_position=self.position,
            event_id=uuid.uuid4(),
            type=type(event).event_type,
            schema_version=1,
            stream_id="test",
            stream_version=self.position,
            partition_key="test",
            occurred_at=datetime.combine(on, time(12), tzinfo=UTC),
            actor=None,
            correlation_id=None,
            causation_id=None,
            data={},
        )
        apply_event(self.connection, envelope, event)

    def claim(self, claim_id: str) -> Claim:
        return Claim.replay(self.claims[claim_id])

    def submit(self, on: date, hours: str = "2", claim_id: str | None = None) -> str:
        claim_id = claim_id or str(uuid.uuid4())
        line = {
            "worked_on": on,
            "hours": hours,
            "activity": "meeting",
            "worker": "Amina Khan",
            "description": "Programme board",
        }
        event = submit_claim(claim_id, self.agreement, [line], submitted_by="amina", today=on)
        self.claims[claim_id] = [event]
        self.emit(event, on)
        return claim_id

    def decide(self, claim_id: str, action: str, on: date, **kwargs: Any) -> None:
        claim = self.claim(claim_id)
        event: ClaimHistoryEvent
        if action == "approve":
            event = claim.approve(by="olu", today=on, **kwargs)
        elif action == "query":
            event = claim.query("Which ward was this?", by="olu", today=on)
        elif action == "answer":
            event = claim.answer("Ward 7", by="amina", today=on)
        elif action == "reject":
            event = claim.reject("Outside the programme", by="olu", today=on)
        else:
            event = claim.withdraw(by="amina", today=on)
        self.claims[claim_id].append(event)
        self.emit(event, on)

    def pay(self, on: date, allocations: dict[str, int], reference: str = "BACS") -> str:
        payment_id = str(uuid.uuid4())
        event = record_payment(
            payment_id,
            payer_id=self.payer_id,
            payee_id=self.payee_id,
            paid_on=on,
            reference=reference,
            allocations=[{"claim_id": c, "amount_pence": a} for c, a in allocations.items()],
            claims={claim_id: self.claim(claim_id) for claim_id in allocations},
            recorded_by="fin",
            today=on,
        )
        self.payments[payment_id] = event
        for claim_id in allocations:
            self.claims[claim_id].append(event)
        self.emit(event, on)
        return payment_id

    def reverse(self, payment_id: str, on: date) -> None:
        recorded = self.payments[payment_id]
        event = Payment.replay([recorded]).reverse("Returned by the bank", by="fin", today=on)
        self.reversed.add(payment_id)
        for allocation in recorded.allocations:
            self.claims[allocation.claim_id].append(event)
        self.emit(event, on)

    # ---- the ledger's view -----------------------------------------------------------------

    def ledger_balance(self, as_at: date) -> dict[str, Any]:
        positions = [self.claim(claim_id).position_as_at(as_at) for claim_id in self.claims]
        return dict(organisation_balance(p for p in positions if p is not None))

    def statement(self, kind: str, **kwargs: Any) -> Any:
        return produce_statement(
            self.connection,
            self.partnership_id,
            self.payee_id,
            self.payer_id,
            kind,
            now=NOW,
            rates=RATES,
            **kwargs,
        )


def random_history(connection: Connection, seed: int, days: int = 180) -> History:
    """Six months of claims moving at random through every transition the ledger allows."""
    rng = random.Random(seed)
    history = History(connection)
    day = date(2026, 1, 5)
    for _ in range(days):
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        for _ in range(rng.choice((0, 1, 1, 2))):
            history.submit(day, hours=rng.choice(("1", "2.5", "3.5", "7", "0.75")))
        payable: dict[str, int] = {}
        for claim_id in list(history.claims):
            claim = history.claim(claim_id)
            if claim.last_event_on > day:
                continue
            roll = rng.random()
            if claim.status == "submitted" and claim.submitted_on < day:
                if roll < 0.06:
                    history.decide(claim_id, "approve", day)
                elif roll < 0.08:
                    partial = max(1, claim.amount_pence * rng.choice((50, 75, 90)) // 100)
                    history.decide(
                        claim_id, "approve", day, amount_pence=partial, reason="Partly in scope"
                    )
                elif roll < 0.09 and not claim.queries:
                    history.decide(claim_id, "query", day)
                elif roll < 0.095:
                    history.decide(claim_id, "reject", day)
                elif roll < 0.098:
                    history.decide(claim_id, "withdraw", day)
            elif claim.status == "queried" and roll < 0.15:
                history.decide(claim_id, "answer", day)
            elif (
                claim.status in ("approved", "part_paid")
                and claim.outstanding_pence > 0
                and claim.payable_from is not None
                and claim.payable_from <= day
                and roll < 0.05
            ):
                whole = claim.outstanding_pence
                payable[claim_id] = whole if rng.random() < 0.7 else max(1, whole // 2)
        if payable:
            chosen = dict(list(payable.items())[: rng.choice((1, 2, 3))])
            history.pay(day, chosen, reference=f"BACS {rng.randint(1000, 9999)}")
        live = [p for p in history.payments if p not in history.reversed]
        if live and rng.random() < 0.03:
            candidate = rng.choice(live)
            if history.payments[candidate].paid_on <= day:
                history.reverse(candidate, day)
    return history


# ---- the outstanding total is the ledger's balance ------------------------------------------


@pytest.mark.parametrize("seed", [1, 7, 2026])
def test_the_outstanding_total_equals_the_ledgers_balance_on_every_date(
    engine: Engine, seed: int
) -> None:
    with begin_write(engine) as connection:
        history = random_history(connection, seed)
        assert len(history.claims) > 50
        assert history.reversed, "the history should include a reversal"
        checked = 0
        day = date(2026, 1, 4)
        while day <= date(2026, 8, 31):
            ledger = history.ledger_balance(day)
            outstanding = history.statement("outstanding", as_at=day, record=False).body
            assert outstanding.open_pence == (
                ledger["outstanding_pence"] + ledger["awaiting_approval_pence"]
            ), day
            assert outstanding.approved_outstanding_pence == ledger["outstanding_pence"], day
            assert outstanding.awaiting_approval_pence == ledger["awaiting_approval_pence"], day
            assert outstanding.overdue_pence == ledger["overdue_pence"], day
            assert {b.bucket: b.open_pence for b in outstanding.buckets} == ledger["aging"], day
            activity = history.statement(
                "activity", period=(day - timedelta(days=6), day), record=False
            ).body
            assert activity.closing_pence == ledger["outstanding_pence"], day
            checked += 1
            day += timedelta(days=7)
        assert checked > 30


def test_indicators_outstanding_agrees_with_the_ledger(engine: Engine) -> None:
    with begin_write(engine) as connection:
        history = random_history(connection, 11)
        end = date(2026, 5, 31)
        ledger = history.ledger_balance(end)

        indicators = indicators_for(
            connection,
            Scope(partnership_id=history.partnership_id),
            Period(date(2026, 1, 1), end),
            rates=RATES,
        )

    assert indicators.figure("outstanding_pence").value == (
        ledger["outstanding_pence"] + ledger["awaiting_approval_pence"]
    )
    assert indicators.figure("overdue_pence").value == ledger["overdue_pence"]
    # Everything submitted from 1 January (the history starts then), withdrawn left out.
    assert indicators.figure("claimed_pence").value == ledger["claimed_pence"]
    assert indicators.figure("approved_pence").value == ledger["approved_pence"]


# ---- JSON, CSV and PDF agree -------------------------------------------------------------


def pdf_text(data: bytes) -> list[str]:
    """Each page's text with runs of whitespace as one space (table cells come out one per
    line), so a table row reads "Total open £1,650.00"."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def money(pence: int) -> str:
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}.{rest:02d}"


def test_outstanding_statement_agrees_in_json_csv_and_pdf(engine: Engine) -> None:
    with begin_write(engine) as connection:
        history = random_history(connection, 3)
        statement = history.statement("outstanding", as_at=date(2026, 6, 30))

    document = json.loads(render(statement, "json")[0])
    rows = list(csv.DictReader(io.StringIO(render(statement, "csv")[0].decode("utf-8"))))
    text = "\n".join(pdf_text(render(statement, "pdf")[0]))

    totals = document["totals"]
    assert totals["items"] > 5 and totals["overdue_pence"] > 0 and totals["interest_pence"] > 0
    csv_total = next(row for row in rows if row["label"] == "Total open")
    assert int(csv_total["open_pence"]) == totals["open_pence"]
    assert int(csv_total["interest_pence"]) == totals["interest_pence"]
    assert int(csv_total["compensation_pence"]) == totals["compensation_pence"]
    assert csv_total["open_pounds"] == f"{totals['open_pence'] / 100:.2f}".replace(",", "")
    items = [row for row in rows if row["row_type"] == "item"]
    assert [row["claim_id"] for row in items] == [i["claim_id"] for i in document["items"]]
    assert sum(int(row["open_pence"]) for row in items) == totals["open_pence"]
    for bucket, figures in document["buckets"].items():
        row = next(r for r in rows if r["row_type"] == "bucket_total" and r["bucket"] == bucket)
        assert int(row["open_pence"]) == figures["open_pence"]
        assert int(row["items"]) == figures["items"]

    # The PDF: the total line of the items table, the summary and each bucket's total.
    total_line = re.search(r"Total\s+(\d+) items\s+(£[\d,.]+)\s+(£[\d,.]+)\s+(£[\d,.]+)", text)
    assert total_line is not None, text
    assert int(total_line.group(1)) == totals["items"]
    assert total_line.group(2) == money(totals["open_pence"])
    assert total_line.group(3) == money(totals["interest_pence"])
    assert total_line.group(4) == money(totals["compensation_pence"])
    assert f"Total open {money(totals['open_pence'])}" in text
    assert f"Of which overdue {money(totals['overdue_pence'])}" in text
    labels = {"not_due": "Not yet due", "1-30": "1-30 days overdue", "90+": "Over 90 days overdue"}
    for bucket, label in labels.items():
        figures = document["buckets"][bucket]
        expected = f"{label} {figures['items']} {money(figures['open_pence'])}"
        assert expected in text, expected
    for item in document["items"]:
        assert item["claim_id"] in text


def test_activity_statement_agrees_in_json_csv_and_pdf(engine: Engine) -> None:
    with begin_write(engine) as connection:
        history = random_history(connection, 5)
        statement = history.statement("activity", period=(date(2026, 3, 1), date(2026, 3, 31)))

    document = json.loads(render(statement, "json")[0])
    rows = list(csv.DictReader(io.StringIO(render(statement, "csv")[0].decode("utf-8"))))
    text = "\n".join(pdf_text(render(statement, "pdf")[0]))

    assert document["lines"], "March should have movements"
    opening, closing = document["opening_balance_pence"], document["closing_balance_pence"]
    sums = document["totals"]
    assert opening + sums["approved_pence"] - sums["paid_pence"] + sums["reversed_pence"] == closing
    by_type = {row["type"]: int(row["amount_pence"]) for row in rows if row["row_type"] == "total"}
    assert by_type == {
        "approved": sums["approved_pence"],
        "payment": sums["paid_pence"],
        "reversal": sums["reversed_pence"],
    }
    assert int(next(r for r in rows if r["row_type"] == "opening")["amount_pence"]) == opening
    assert int(next(r for r in rows if r["row_type"] == "closing")["amount_pence"]) == closing
    assert len([r for r in rows if r["row_type"] == "line"]) == len(document["lines"])
    assert f"Opening balance {money(opening)}" in text
    assert f"Approved in the period {money(sums['approved_pence'])}" in text
    assert f"Paid in the period -{money(sums['paid_pence'])}" in text
    assert f"Closing balance {money(closing)}" in text


def test_a_long_statement_paginates_with_numbered_pages_and_repeated_headers(
    engine: Engine,
) -> None:
    with begin_write(engine) as connection:
        history = History(connection)
        day = date(2026, 1, 5)
        for n in range(120):
            history.submit(day + timedelta(days=n % 50), hours="2", claim_id=f"claim-{n:03d}")
        statement = history.statement("outstanding", as_at=date(2026, 4, 30))

    assert len(statement.body.items) == 120
    pages = pdf_text(render(statement, "pdf")[0])

    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        if "claim-" in page:
            assert "Claim Standing Receipt Payment due Days overdue" in page, number
    everything = "\n".join(pages)
    assert all(f"claim-{n:03d}" in everything for n in range(120))
    assert f"Total 120 items {money(120 * 5000)}" in everything
    assert "Late Payment of Commercial Debts (Interest) Act 1998" in pages[-1]
    assert "Procurement Act 2023 s.68" in pages[-1]


def test_an_unknown_pair_is_refused(engine: Engine) -> None:
    with begin_write(engine) as connection:
        history = History(connection)
        with pytest.raises(UnknownStatementScope):
            produce_statement(
                connection,
                history.partnership_id,
                history.payer_id,  # the wrong way round
                history.payee_id,
                "outstanding",
                as_at=date(2026, 1, 31),
                now=NOW,
                rates=RATES,
            )


def test_on_demand_statements_are_recorded_once_per_period(engine: Engine) -> None:
    with begin_write(engine) as connection:
        history = History(connection)
        first = history.statement("outstanding", as_at=date(2026, 1, 31))
        again = produce_statement(
            connection,
            history.partnership_id,
            history.payee_id,
            history.payer_id,
            "outstanding",
            as_at=date(2026, 1, 31),
            now=NOW + timedelta(hours=1),
            rates=RATES,
        )
        rows = connection.execute(select(statements)).all()

    assert first.id == again.id
    assert len(rows) == 1
    assert rows[0].trigger == "on_demand"
    assert rows[0].produced_at == NOW + timedelta(hours=1)


# ---- monthly production --------------------------------------------------------------------


def subscribe(connection: Connection, organisation_id: str, target: str) -> None:
    connection.execute(
        insert(subscriptions).values(
            id=str(uuid.uuid4()),
            organisation_id=organisation_id,
            created_by="someone",
            channel="email",
            target=target,
            kinds=[],
            digest=False,
            statements=True,
            active=True,
            created_at=NOW,
        )
    )


def test_monthly_statements_run_on_the_first_working_day_only_and_once(engine: Engine) -> None:
    # 1 February 2026 is a Sunday: the first working day is Monday 2 February.
    assert first_working_day(2026, 2, "england") == date(2026, 2, 2)
    with begin_write(engine) as connection:
        history = random_history(connection, 9, days=40)
        subscribe(connection, history.payee_id, "finance@hope.example")
        subscribe(connection, history.payer_id, "ap@icb.example")

        for not_today in (date(2026, 2, 1), date(2026, 2, 3), date(2026, 2, 27)):
            assert monthly_statements(connection, not_today, NOW, rates=RATES) == []
        produced = monthly_statements(connection, date(2026, 2, 2), NOW, rates=RATES)
        again = monthly_statements(connection, date(2026, 2, 2), NOW, rates=RATES)
        recorded = connection.execute(select(statements).order_by(statements.c.kind)).all()

    assert [s.kind for s in produced] == ["activity", "outstanding"]
    activity, outstanding = produced
    assert (activity.period_start, activity.period_end) == (date(2026, 1, 1), date(2026, 1, 31))
    assert outstanding.period_end == date(2026, 1, 31)
    assert {s.trigger for s in produced} == {"monthly"}
    assert {r.target for r in activity.recipients} == {"finance@hope.example", "ap@icb.example"}
    assert again == []
    assert [(r.kind, r.period_end, r.trigger) for r in recorded] == [
        ("activity", date(2026, 1, 31), "monthly"),
        ("outstanding", date(2026, 1, 31), "monthly"),
    ]
    assert [r.id for r in recorded] == [activity.id, outstanding.id]
    assert len(recorded[0].recipients) == 2
    for statement in produced:
        for fmt in ("json", "csv", "pdf"):
            data, _, filename = render(statement, fmt)
            assert data and "2026-01" in filename


def test_monthly_statements_follow_the_agreements_nation(engine: Engine) -> None:
    # 2 January 2026 is a bank holiday in Scotland, not in England.
    assert first_working_day(2026, 1, "england") == date(2026, 1, 2)
    assert first_working_day(2026, 1, "scotland") == date(2026, 1, 5)
    with begin_write(engine) as connection:
        england = History(connection)
        scotland = History(connection, nation="scotland")
        england.submit(date(2025, 12, 1))
        scotland.submit(date(2025, 12, 1))

        on_2nd = monthly_statements(connection, date(2026, 1, 2), NOW, rates=RATES)
        on_5th = monthly_statements(connection, date(2026, 1, 5), NOW, rates=RATES)
        count = connection.execute(select(func.count()).select_from(statements)).scalar_one()

    assert {s.parties.payee.id for s in on_2nd} == {england.payee_id}
    assert {s.parties.payee.id for s in on_5th} == {scotland.payee_id}
    assert all(s.period_end == date(2025, 12, 31) for s in on_2nd + on_5th)
    assert count == 4
