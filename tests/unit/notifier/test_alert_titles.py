"""Alert titles in the reader's language: the rules store each title in English, and an email,
a digest or the feed in Welsh makes it again, in Welsh, from the alert's own facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.notifier.alerts.records import Alert
from services.notifier.rules import assess_partnership
from services.notifier.rules.candidates import AlertCandidate
from services.notifier.rules.wording import alert_title, english_title, shown_title
from shared.i18n import use_language
from tests.unit.notifier.rules_builders import NAMES, PARTNERSHIP, submit, terms

AS_OF = date(2026, 6, 30)


def _alert(candidate: AlertCandidate, raised_on: date = AS_OF) -> Alert:
    return Alert(
        id="a1",
        subject_id=candidate.subject_id,
        kind=candidate.kind,
        level=candidate.level,
        partnership_id=candidate.partnership_id,
        payer_id=candidate.payer_id,
        payee_id=candidate.payee_id,
        claim_id=candidate.claim_id,
        agreement_id=candidate.agreement_id,
        raised_on=raised_on,
        raised_at=datetime(2026, 6, 30, 6, tzinfo=UTC),
        status="open",
        title=candidate.title,
        detail=candidate.detail,
    )


def _candidates() -> list[AlertCandidate]:
    """A world raising every kind of rule alert on AS_OF (and a payment due that day)."""
    agreement = terms(budget_pence=100_000)
    stories = [
        submit(AS_OF - timedelta(days=40), agreement=agreement),  # approval overdue
        submit(AS_OF - timedelta(days=7), agreement=agreement),  # approval due soon
        submit(AS_OF - timedelta(days=100), agreement=agreement).approve(AS_OF - timedelta(96)),
        submit(AS_OF - timedelta(days=30), agreement=agreement).approve(AS_OF - timedelta(25)),
        submit(AS_OF - timedelta(days=28), agreement=agreement).approve(AS_OF - timedelta(20)),
        submit(AS_OF - timedelta(days=20), agreement=agreement).query(AS_OF - timedelta(days=12)),
    ]
    assessment = assess_partnership(
        PARTNERSHIP, [s.timeline for s in stories], {agreement.id: agreement}, AS_OF, NAMES
    )
    return list(assessment.candidates)


def test_every_rule_alert_has_a_title_made_from_its_facts() -> None:
    candidates = _candidates()
    kinds = {c.kind for c in candidates}
    assert {
        "approval_overdue",
        "approval_due_soon",
        "payment_overdue",
        "payment_due_soon",
        "query_unanswered",
        "budget_threshold",
        "equity_breach",
    } <= kinds
    for candidate in candidates:
        # The stored English title is the one made again from the detail: one wording.
        assert english_title(candidate.kind, candidate.detail, AS_OF) == candidate.title
        with use_language("cy"):
            welsh, language = shown_title(_alert(candidate))
        assert language == "cy"
        assert welsh != candidate.title, candidate.title


@pytest.mark.parametrize(
    ("english", "welsh"),
    [
        ("Approval overdue: ", "Cymeradwyaeth yn hwyr: "),
        ("Approval due soon: ", "Cymeradwyaeth yn ddyledus cyn bo hir: "),
        ("Payment overdue: ", "Taliad yn hwyr: "),
        ("Payment due today: ", "Taliad yn ddyledus heddiw: "),
        ("Query unanswered: ", "Ymholiad heb ei ateb: holodd North ICB am hawliad o "),
        ("Budget ", "Cyrhaeddwyd "),
        ("Equity breach: Hope", "Toriad tegwch: mae "),
    ],
)
def test_welsh_titles(english: str, welsh: str) -> None:
    candidate = next(c for c in _candidates() if c.title.startswith(english))
    with use_language("cy"):
        title, _ = shown_title(_alert(candidate))
    assert title.startswith(welsh), title
    assert "—" in title or "Toriad" in title or "Cyrhaeddwyd" in title
    if "diwrnod" in title or candidate.kind == "query_unanswered":
        assert " day" not in title  # numbers of days are in Welsh words


def test_the_feed_and_the_webhooks_show_the_title_in_the_language_of_the_moment() -> None:
    candidate = next(c for c in _candidates() if c.kind == "payment_overdue")
    alert = _alert(candidate)
    assert alert.to_json()["title"] == candidate.title  # webhooks and English readers
    with use_language("cy"):
        assert alert.to_json()["title"].startswith("Taliad yn hwyr: Hope Street")
        assert "diwrnod yn hwyr" in alert.to_json()["title"]


def test_an_alert_whose_detail_lacks_a_fact_keeps_its_english_title() -> None:
    candidate = next(c for c in _candidates() if c.kind == "approval_overdue")
    detail = {k: v for k, v in candidate.detail.items() if k != "working_days_late"}
    alert = _alert(candidate)
    older = Alert(**{**alert.__dict__, "detail": detail})
    with use_language("cy"):
        assert shown_title(older) == (candidate.title, "en")
    statement = Alert(**{**alert.__dict__, "kind": "statement_ready", "detail": {}})
    with use_language("cy"):
        assert shown_title(statement) == (candidate.title, "en")
    assert alert_title("statement_ready", {}, AS_OF) is None
