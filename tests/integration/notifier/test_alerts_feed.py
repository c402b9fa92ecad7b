"""The in-app feed (list with filters and cursor paging), acknowledging, recipients from
subscriptions and digest mode, `raise_candidate` for other producers, and `check`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from services.notifier.alerts import (
    InvalidCursor,
    acknowledge,
    evaluate,
    list_alerts,
    raise_candidate,
)
from services.notifier.rules import (
    APPROVAL_OVERDUE,
    BUDGET_THRESHOLD,
    PAYMENT_OVERDUE,
    STATEMENT_READY,
    AlertCandidate,
    Recipients,
)
from services.notifier.scheduler import check, format_report
from shared.sql import begin_write
from tests.integration.notifier.alerts_world import (
    NOW,
    PARTNERSHIP,
    PAYEE,
    PAYER,
    NotifierWorld,
)

SUBMITTED = date(2026, 3, 2)


def busy_world(engine: Engine) -> NotifierWorld:
    """Three alerts raised at three instants: payment overdue, approval overdue, budget 80%."""
    world = NotifierWorld(engine)
    world.setup(budget_pence=100_000)
    paid_late = world.submit(SUBMITTED, 30_000)
    world.approve(paid_late, date(2026, 3, 5))
    with begin_write(engine) as connection:
        evaluate(connection, date(2026, 4, 8), NOW, claim_ids=[paid_late])  # d+7
    world.submit(date(2026, 4, 2), 60_000)  # approval due Mon 13 Apr
    with begin_write(engine) as connection:
        evaluate(connection, date(2026, 4, 14), NOW + timedelta(minutes=1))
    return world


def test_list_filters_and_pages(notifier_engine: Engine) -> None:
    busy_world(notifier_engine)
    with notifier_engine.connect() as connection:
        everything = list_alerts(connection)
        kinds = [a.kind for a in everything.items]
        assert sorted(kinds) == [APPROVAL_OVERDUE, BUDGET_THRESHOLD, PAYMENT_OVERDUE]
        assert kinds[-1] == PAYMENT_OVERDUE  # newest first: raised a minute before the others
        assert everything.next_cursor is None
        only = list_alerts(connection, kind=BUDGET_THRESHOLD)
        assert [a.level for a in only.items] == ["80"]
        assert list_alerts(connection, status="resolved").items == []
        assert len(list_alerts(connection, status=["open", "acknowledged"]).items) == 3
        assert len(list_alerts(connection, organisation_ids=[PAYEE]).items) == 3
        assert list_alerts(connection, organisation_ids=["someone-else"]).items == []
        assert len(list_alerts(connection, partnership_ids=[PARTNERSHIP]).items) == 3
        assert list_alerts(connection, partnership_ids=["p-other"]).items == []
        seen: list[str] = []
        cursor = None
        while True:
            page = list_alerts(connection, limit=1, cursor=cursor)
            seen.extend(a.id for a in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [a.id for a in everything.items]
        with pytest.raises(InvalidCursor):
            list_alerts(connection, cursor="not-a-cursor")
        with pytest.raises(ValueError, match="status"):
            list_alerts(connection, status="closed")
        as_json = everything.to_json()["items"][0]
        assert "audience" not in as_json["detail"]
        assert as_json["raised_at"].endswith("+00:00")


def test_acknowledge(notifier_engine: Engine) -> None:
    world = busy_world(notifier_engine)
    later = NOW + timedelta(hours=2)
    with begin_write(notifier_engine) as connection:
        [alert] = list_alerts(connection, kind=PAYMENT_OVERDUE).items
        assert acknowledge(connection, alert.id, "fin", later, organisation_ids=["x"]) is None
        assert acknowledge(connection, "no-such-alert", "fin", later) is None
        done = acknowledge(connection, alert.id, "fin", later, organisation_ids=[PAYER])
        assert done is not None and done.status == "acknowledged"
        assert (done.acknowledged_by, done.acknowledged_at) == ("fin", later)
        again = acknowledge(connection, alert.id, "olu", later + timedelta(hours=1))
        assert again is not None and again.acknowledged_by == "fin"  # idempotent
    # Still overdue: stays acknowledged, not re-raised; paid: resolved.
    with begin_write(notifier_engine) as connection:
        assert evaluate(connection, date(2026, 4, 14), NOW) == []
    assert world.count_alerts(kind=PAYMENT_OVERDUE, status="acknowledged") == 1
    claim = next(iter(world.claims))
    world.pay(claim, date(2026, 4, 14))
    with begin_write(notifier_engine) as connection:
        evaluate(connection, date(2026, 4, 14), NOW, claim_ids=[claim])
    assert world.count_alerts(kind=PAYMENT_OVERDUE, status="resolved") == 1


def test_subscriptions_and_digest_mode_shape_the_recipients(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    # The charity wants its daily digest instead of one email per alert, plus a webhook for
    # payment alerts only; the ICB's finance mailbox gets everything.
    world.subscribe(PAYEE, "email", "office@hope.example", digest=True)
    hook = world.subscribe(PAYEE, "webhook", "http://127.0.0.1:9/hook", kinds=[PAYMENT_OVERDUE])
    world.subscribe(PAYER, "email", "ap@icb.example")
    world.subscribe(PAYER, "email", "FIN@icb.example")  # the same person as a subscription
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    with begin_write(notifier_engine) as connection:
        [raised] = evaluate(connection, date(2026, 4, 2), NOW)
    deliveries = [(d.channel, d.recipient.lower()) for d in world.delivery_rows()]
    assert sorted(deliveries) == [
        ("email", "ap@icb.example"),
        ("email", "fin@icb.example"),
        ("webhook", "http://127.0.0.1:9/hook"),
    ]
    assert raised.deliveries_queued == 3
    [webhook] = [d for d in world.delivery_rows() if d.channel == "webhook"]
    assert webhook.subscription_id == hook.id
    assert webhook.payload["type"] == "alert.raised"
    assert webhook.payload["data"]["id"] == raised.id
    [email] = [d for d in world.delivery_rows() if d.recipient == "ap@icb.example"]
    assert email.payload["subject"] == (
        "[Bridges] Payment overdue: Hope Street Community Trust — £237.40, 1 day late"
    )


def test_raise_candidate_for_other_producers(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup()
    candidate = AlertCandidate(
        subject_id="statement:hope:2026-03",
        kind=STATEMENT_READY,
        level="2026-03-31",
        partnership_id=PARTNERSHIP,
        payer_id=PAYER,
        payee_id=PAYEE,
        claim_id=None,
        agreement_id=None,
        title="Statement ready: Hope Street Community Trust and North ICB, March 2026",
        detail={"statement_id": "st1"},
        audience=(Recipients(PAYEE, ("vcse_admin",)), Recipients(PAYER, ("finance",))),
    )
    with begin_write(notifier_engine) as connection:
        raised = raise_candidate(connection, candidate, NOW, date(2026, 4, 1))
        assert raised is not None and raised.deliveries_queued == 2
        assert raise_candidate(connection, candidate, NOW, date(2026, 4, 2)) is None
    assert sorted(d.recipient for d in world.delivery_rows()) == [
        "amina@hope.example",
        "fin@icb.example",
    ]
    # The rules never resolve what they did not raise.
    with begin_write(notifier_engine) as connection:
        evaluate(connection, date(2026, 4, 2), NOW)
    assert world.count_alerts(kind=STATEMENT_READY, status="open") == 1


def test_check_and_its_report(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    world.submit(SUBMITTED)
    now = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
    preview = check(notifier_engine, date(2026, 4, 2), now, dry_run=True)
    assert sorted(a.kind for a in preview) == [APPROVAL_OVERDUE, PAYMENT_OVERDUE]
    assert world.count_alerts() == 0 and world.delivery_rows() == []
    assert "would raise 2 alert(s)" in format_report(date(2026, 4, 2), preview, dry_run=True)
    raised = check(notifier_engine, date(2026, 4, 2), now)
    assert world.count_alerts() == 2
    report = format_report(date(2026, 4, 2), raised)
    assert report.splitlines()[0] == "As at 2026-04-02: raised 2 alert(s)."
    assert "Payment overdue: Hope Street Community Trust — £237.40, 1 day late" in report
    assert check(notifier_engine, date(2026, 4, 2), now) == []
    assert format_report(date(2026, 4, 2), []) == "As at 2026-04-02: no new alerts."
