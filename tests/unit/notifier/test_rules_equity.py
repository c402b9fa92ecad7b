"""Equity breaches: a payer's rolling-90-day on-time rate under 95%, and money owed > 60 days."""

from __future__ import annotations

from datetime import date, timedelta

from services.notifier.rules import (
    EQUITY_BREACH,
    equity_alerts,
    on_time_rate,
    owed_subject,
    payer_subject,
)
from services.notifier.rules.candidates import AlertCandidate
from tests.unit.notifier.rules_builders import (
    NAMES,
    PARTNERSHIP,
    PAYEE,
    PAYER,
    ClaimStory,
    submit,
    terms,
)

AS_OF = date(2026, 6, 30)


def due_on(due: date, agreement_id: str = "a1", payee: str = PAYEE) -> ClaimStory:
    """An approved claim whose payment due (30 days after submission) is `due`."""
    agreement = terms(id=agreement_id, payee_id=payee)
    return submit(due - timedelta(days=30), agreement=agreement).approve(due - timedelta(days=25))


def paid_on_time(due: date) -> ClaimStory:
    return due_on(due).pay(due, 23740)


def paid_late(due: date, days_late: int = 3) -> ClaimStory:
    return due_on(due).pay(due + timedelta(days=days_late), 23740)


def alerts(stories: list[ClaimStory], as_of: date = AS_OF) -> list[AlertCandidate]:
    return equity_alerts(PARTNERSHIP, PAYER, [s.timeline for s in stories], as_of, NAMES)


def breaches(stories: list[ClaimStory], as_of: date = AS_OF) -> list[str]:
    return [str(a.detail["breach"]) for a in alerts(stories, as_of)]


def in_window(n: int) -> list[date]:
    return [AS_OF - timedelta(days=5 + 4 * i) for i in range(n)]


def test_95_percent_on_time_is_no_breach() -> None:
    days = in_window(20)
    stories = [paid_on_time(d) for d in days[:19]] + [paid_late(days[19])]
    rate = on_time_rate([s.timeline for s in stories], AS_OF)
    assert (len(rate.judged), rate.on_time, str(rate.percent)) == (20, 19, "95.0")
    assert breaches(stories) == []


def test_below_95_percent_is_a_breach_for_the_month() -> None:
    days = in_window(20)
    stories = [paid_on_time(d) for d in days[:18]] + [paid_late(d) for d in days[18:]]
    [alert] = alerts(stories)
    assert alert.kind == EQUITY_BREACH
    assert alert.subject_id == payer_subject(PARTNERSHIP, PAYER)
    assert alert.level == "2026-06"
    assert alert.payer_id == PAYER and alert.payee_id is None
    assert alert.detail["on_time_percent"] == "90.0"
    assert alert.detail["claims_judged"] == 20
    assert sorted(alert.detail["late_claim_ids"]) == sorted(s.id for s in stories[18:])
    assert alert.title == (
        "Equity breach: North ICB paid 90.0% of claims on time in the last 90 days (target 95%)"
    )
    roles = {(r.organisation_id, r.roles) for r in alert.audience}
    assert roles == {
        (PAYER, ("approver", "finance")),
        (PAYEE, ("vcse_admin", "vcse_member")),
        (None, ("partner_viewer",)),
    }
    # Still breached next month: the same subject at a new level.
    [later] = alerts(stories, date(2026, 7, 1))
    assert (later.subject_id, later.level) == (alert.subject_id, "2026-07")


def test_fewer_than_five_claims_are_not_judged() -> None:
    stories = [paid_late(d) for d in in_window(4)]
    assert breaches(stories) == []
    assert breaches([*stories, paid_late(in_window(5)[4])]) == ["on_time_rate"]


def test_the_window_is_the_90_days_ending_on_the_day() -> None:
    oldest = AS_OF - timedelta(days=89)
    outside = AS_OF - timedelta(days=90)
    on_time = [paid_on_time(d) for d in in_window(19)]
    assert breaches([*on_time, paid_late(oldest, 1), paid_late(AS_OF - timedelta(days=3))]) == [
        "on_time_rate"
    ]
    assert breaches([*on_time, paid_late(outside, 1), paid_late(AS_OF - timedelta(days=3))]) == []


def test_unpaid_claims_due_in_the_window_count_as_late_even_unapproved() -> None:
    on_time = [paid_on_time(d) for d in in_window(10)]
    unapproved = submit(AS_OF - timedelta(days=40))  # due 20 days ago, never approved
    rate = on_time_rate([*(s.timeline for s in on_time), unapproved.timeline], AS_OF)
    assert rate.late == (unapproved.id,)


def test_rejected_and_withdrawn_claims_are_not_judged() -> None:
    on_time = [paid_on_time(d) for d in in_window(5)]
    rejected = submit(AS_OF - timedelta(days=40)).reject(AS_OF - timedelta(days=35))
    assert breaches([*on_time, rejected]) == []


def test_a_vcse_organisation_owed_more_than_60_days() -> None:
    sixty = due_on(AS_OF - timedelta(days=60))
    assert [a for a in alerts([sixty]) if a.detail["breach"] == "owed_over_60_days"] == []
    sixty_one = due_on(AS_OF - timedelta(days=61)).pay(AS_OF - timedelta(days=10), 10000)
    owed = [a for a in alerts([sixty, sixty_one]) if a.detail["breach"] == "owed_over_60_days"]
    [alert] = owed
    assert alert.subject_id == owed_subject(PARTNERSHIP, PAYER, PAYEE)
    assert alert.payee_id == PAYEE
    assert alert.detail["owed_pence"] == 13740
    assert alert.detail["oldest_days_overdue"] == 61
    assert [c["claim_id"] for c in alert.detail["claims"]] == [sixty_one.id]
    assert alert.title == (
        "Equity breach: Hope Street Community Trust owed £137.40 by North ICB for more than "
        "60 days (oldest 61 days late, due 30 Apr 2026)"
    )


def test_owed_is_judged_per_vcse_organisation_and_only_a_timely_query_pauses_it() -> None:
    hope = due_on(AS_OF - timedelta(days=70))
    # Never approved: still owed (the payer cannot escape lateness by not approving).
    bridge = submit(AS_OF - timedelta(days=100), agreement=terms(id="a2", payee_id="bridge"))
    owed = {a.payee_id for a in alerts([hope, bridge])}
    assert owed == {PAYEE, "bridge"}
    # A query raised 65 days after payment due does not stop the clock: the payer was late.
    bridge.query(AS_OF - timedelta(days=5))
    owed = {a.payee_id for a in alerts([hope, bridge])}
    assert owed == {PAYEE, "bridge"}
    # A query raised before payment due, and still open, pauses it.
    roots = submit(AS_OF - timedelta(days=100), agreement=terms(id="a3", payee_id="roots"))
    roots.query(AS_OF - timedelta(days=80))
    owed = {a.payee_id for a in alerts([hope, bridge, roots])}
    assert owed == {PAYEE, "bridge"}


def test_payment_ends_the_owed_breach() -> None:
    story = due_on(AS_OF - timedelta(days=70))
    assert breaches([story]) == ["owed_over_60_days"]
    story.pay(AS_OF, 23740)
    assert breaches([story]) == []


def test_a_claim_due_today_and_unpaid_is_not_late_yet() -> None:
    """Overdue means today > payment due: a claim due on `as_of` is not judged until tomorrow."""
    on_time = [paid_on_time(d) for d in in_window(5)]
    due_today = due_on(AS_OF)
    rate = on_time_rate([s.timeline for s in [*on_time, due_today]], AS_OF)
    assert (len(rate.judged), rate.on_time, rate.late) == (5, 5, ())
    assert breaches([*on_time, due_today]) == []
    tomorrow = on_time_rate([s.timeline for s in [*on_time, due_today]], AS_OF + timedelta(1))
    assert (len(tomorrow.judged), tomorrow.late) == (6, (due_today.id,))
