"""Alerts in a real notifier database (SQLite and PostgreSQL): raised once, resolved when the
condition ends, reopened without a second announcement, delivered to the right people."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import Engine, select

from services.notifier.alerts import assess, evaluate
from services.notifier.rules import (
    APPROVAL_DUE_SOON,
    APPROVAL_OVERDUE,
    BUDGET_THRESHOLD,
    EQUITY_BREACH,
    PAYMENT_DUE_SOON,
    PAYMENT_OVERDUE,
    QUERY_UNANSWERED,
)
from services.notifier.store.tables import alerts
from shared.sql import begin_write
from tests.integration.notifier.alerts_world import NOW, NotifierWorld

SUBMITTED = date(2026, 3, 2)  # payment due Wed 1 Apr; approval due Mon 9 Mar


def run(
    world: NotifierWorld, as_of: date, claim_ids: list[str] | None = None
) -> list[tuple[str, str]]:
    with begin_write(world.engine) as connection:
        raised = evaluate(connection, as_of, NOW, claim_ids=claim_ids)
    return sorted((a.kind, a.level) for a in raised)


def statuses(world: NotifierWorld) -> dict[tuple[str, str], str]:
    return {(row.kind, row.level): row.status for row in world.alert_rows()}


def test_evaluating_twice_raises_once(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup()
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    assert run(world, date(2026, 4, 16)) == [(PAYMENT_OVERDUE, "d+14")]
    assert run(world, date(2026, 4, 16)) == []
    assert run(world, date(2026, 4, 17)) == []
    assert world.count_alerts() == 1
    [row] = world.alert_rows()
    assert row.subject_id == claim and row.claim_id == claim
    assert row.raised_on == date(2026, 4, 16)
    assert row.title == "Payment overdue: Hope Street Community Trust — £237.40, 15 days late"
    # Payer finance, and a copy to the charity's people; nobody else.
    recipients = [(d.channel, d.recipient) for d in world.delivery_rows()]
    assert recipients == [
        ("email", "amina@hope.example"),
        ("email", "fin@icb.example"),
        ("email", "sam@hope.example"),
    ]
    assert {d.alert_id for d in world.delivery_rows()} == {row.id}
    assert len({d.message_id for d in world.delivery_rows()}) == 3


def test_payment_resolves_the_reminders_and_raises_no_more(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup()
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    assert run(world, date(2026, 3, 29)) == [(PAYMENT_DUE_SOON, "d-3")]
    assert run(world, date(2026, 4, 2)) == [(PAYMENT_OVERDUE, "d+1")]
    # A newer reminder supersedes the older one: one open reminder per claim.
    assert statuses(world) == {
        (PAYMENT_DUE_SOON, "d-3"): "resolved",
        (PAYMENT_OVERDUE, "d+1"): "open",
    }
    changed = world.feed()  # nothing
    assert changed == []
    world.pay(claim, date(2026, 4, 3))
    # The consumer's after-batch evaluation (this claim only) resolves it at once.
    assert run(world, date(2026, 4, 3), claim_ids=[claim]) == []
    assert statuses(world)[(PAYMENT_OVERDUE, "d+1")] == "resolved"
    assert run(world, date(2026, 4, 30)) == []
    assert world.count_alerts(status="open") == 0
    [row] = [r for r in world.alert_rows() if r.level == "d+1"]
    assert row.resolved_at == NOW


def test_a_reversal_reopens_or_raises_the_current_reminder(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup()
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    assert run(world, date(2026, 4, 2)) == [(PAYMENT_OVERDUE, "d+1")]
    payment = world.pay(claim, date(2026, 4, 3))
    run(world, date(2026, 4, 3))
    deliveries_before = len(world.delivery_rows())
    world.reverse(payment, claim, date(2026, 4, 4), world.claims[claim])
    with begin_write(world.engine) as connection:
        evaluation = assess(connection, date(2026, 4, 4), NOW)
    # Still the d+1 reminder: reopened, not announced a second time.
    assert evaluation.raised == [] and len(evaluation.reopened) == 1
    assert statuses(world)[(PAYMENT_OVERDUE, "d+1")] == "open"
    assert len(world.delivery_rows()) == deliveries_before
    # Reminders resume with the next level.
    assert run(world, date(2026, 4, 8)) == [(PAYMENT_OVERDUE, "d+7")]


def test_approval_alerts_follow_the_claim(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    claim = world.submit(SUBMITTED)  # approval due Mon 9 Mar
    assert run(world, date(2026, 3, 6)) == [(APPROVAL_DUE_SOON, "1")]
    approver_emails = [d.recipient for d in world.delivery_rows()]
    assert approver_emails == ["olu@icb.example"]
    assert run(world, date(2026, 3, 10)) == [(APPROVAL_OVERDUE, "1")]
    world.query(claim, date(2026, 3, 11))
    assert run(world, date(2026, 3, 11)) == []  # still overdue while queried
    assert statuses(world)[(APPROVAL_OVERDUE, "1")] == "open"
    assert run(world, date(2026, 3, 18)) == [(QUERY_UNANSWERED, "2026-03-11")]
    world.answer(claim, date(2026, 3, 19))
    assert run(world, date(2026, 3, 19), claim_ids=[claim]) == []
    assert statuses(world)[(QUERY_UNANSWERED, "2026-03-11")] == "resolved"
    world.approve(claim, date(2026, 3, 20))
    run(world, date(2026, 3, 20), claim_ids=[claim])
    assert statuses(world)[(APPROVAL_OVERDUE, "1")] == "resolved"


def test_a_rejection_ends_everything_about_the_claim(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    claim = world.submit(SUBMITTED)
    run(world, date(2026, 4, 2))
    assert world.count_alerts(status="open") == 2  # approval overdue, payment overdue
    world.reject(claim, date(2026, 4, 3))
    run(world, date(2026, 4, 3), claim_ids=[claim])
    assert world.count_alerts(status="open") == 0


def test_budget_threshold_from_the_consumer_path(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=100_000)
    first = world.submit(date(2026, 4, 1), 50_000)
    assert run(world, date(2026, 4, 1), claim_ids=[first]) == []
    second = world.submit(date(2026, 4, 2), 30_000)
    assert run(world, date(2026, 4, 2), claim_ids=[second]) == [(BUDGET_THRESHOLD, "80")]
    recipients = {d.recipient for d in world.delivery_rows()}
    assert recipients == {
        "olu@icb.example",
        "fin@icb.example",
        "amina@hope.example",
        "sam@hope.example",
    }
    assert run(world, date(2026, 4, 2)) == []  # the full evaluation agrees: nothing new
    world.reject(second, date(2026, 4, 3))
    run(world, date(2026, 4, 3), claim_ids=[second])
    assert statuses(world)[(BUDGET_THRESHOLD, "80")] == "resolved"


def test_equity_breaches_come_from_the_full_evaluation(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    claim = world.submit(SUBMITTED, 50_000)
    world.approve(claim, date(2026, 3, 5))
    as_of = date(2026, 4, 1) + timedelta(days=61)
    consumer = {k for k, _ in run(world, as_of, claim_ids=[claim])}
    assert EQUITY_BREACH not in consumer
    assert run(world, as_of) == [(EQUITY_BREACH, "2026-06")]
    [row] = [r for r in world.alert_rows() if r.kind == EQUITY_BREACH]
    assert row.payee_id == "hope" and row.detail["breach"] == "owed_over_60_days"
    recipients = {d.recipient for d in world.delivery_rows() if d.alert_id == row.id}
    # Both sides and the partnership's viewer; not the other charity in the partnership.
    assert recipients == {
        "olu@icb.example",
        "fin@icb.example",
        "amina@hope.example",
        "sam@hope.example",
        "pat@learn.example",
    }
    # The next month: announced again for July, June's resolved.
    assert run(world, date(2026, 7, 1)) == [(EQUITY_BREACH, "2026-07")]
    assert statuses(world)[(EQUITY_BREACH, "2026-06")] == "resolved"


def test_concurrent_evaluations_raise_each_identity_once(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=100_000)
    for i in range(12):
        claim = world.submit(SUBMITTED + timedelta(days=i), 10_000)
        if i % 2:
            world.approve(claim, SUBMITTED + timedelta(days=i + 1))
    as_of = date(2026, 4, 20)
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def evaluate_in_thread() -> None:
        try:
            barrier.wait(timeout=10)
            with begin_write(world.engine) as connection:
                results.append([a.id for a in evaluate(connection, as_of, NOW)])
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=evaluate_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    raised = [identifier for result in results for identifier in result]
    assert len(raised) == len(set(raised)) == world.count_alerts()
    assert world.count_alerts() > 12
    with world.engine.connect() as connection:
        identities = connection.execute(select(alerts.c.subject_id, alerts.c.kind, alerts.c.level))
        assert len(set(identities)) == world.count_alerts()
    messages = [d.message_id for d in world.delivery_rows()]
    assert len(messages) == len(set(messages))
