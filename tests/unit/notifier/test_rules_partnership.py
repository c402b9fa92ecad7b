"""Every rule over one partnership: what holds, and every subject judged (so the caller can
resolve what stopped holding)."""

from __future__ import annotations

from datetime import date, timedelta

from services.notifier.rules import (
    BUDGET_THRESHOLD,
    PAYMENT_OVERDUE,
    assess_partnership,
    claim_alerts,
    owed_subject,
    payer_subject,
)
from tests.unit.notifier.rules_builders import NAMES, PARTNERSHIP, PAYEE, PAYER, submit, terms


def test_candidates_and_subjects_of_a_partnership() -> None:
    agreement = terms(budget_pence=50_000)
    other = terms(id="a9", partnership_id="p9")
    late = submit(date(2026, 3, 2), 45_000, agreement).approve(date(2026, 3, 5))
    paid = submit(date(2026, 3, 2), 1_000, agreement).approve(date(2026, 3, 5))
    paid.pay(date(2026, 3, 20), 1_000)
    elsewhere = submit(date(2026, 3, 2), 1_000, other)
    assessment = assess_partnership(
        PARTNERSHIP,
        [late.timeline, paid.timeline, elsewhere.timeline],
        {"a1": agreement, "a9": other},
        date(2026, 4, 2),
        NAMES,
    )
    held = sorted((c.subject_id, c.kind, c.level) for c in assessment.candidates)
    assert held == sorted([(late.id, PAYMENT_OVERDUE, "d+1"), ("a1", BUDGET_THRESHOLD, "80")])
    # Judged, though nothing holds for them: the paid claim and the equity subjects.
    assert assessment.subjects == {
        late.id,
        paid.id,
        "a1",
        payer_subject(PARTNERSHIP, PAYER),
        owed_subject(PARTNERSHIP, PAYER, PAYEE),
    }


def test_without_its_agreement_a_claim_gets_the_defaults() -> None:
    story = submit(date(2026, 3, 2)).approve(date(2026, 3, 5))
    due = date(2026, 4, 1)
    [alert] = claim_alerts(story.timeline, None, due - timedelta(days=3))
    assert alert.level == "d-3"  # the default schedule
