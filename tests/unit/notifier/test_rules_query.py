"""`query_unanswered`: a query open for 5 working days of the agreement's nation."""

from __future__ import annotations

from datetime import date

import pytest

from services.notifier.rules import QUERY_UNANSWERED, claim_alerts
from tests.unit.notifier.rules_builders import NAMES, PAYEE, ClaimStory, submit, terms


def unanswered(story: ClaimStory, as_of: date) -> bool:
    kinds = [c.kind for c in claim_alerts(story.timeline, story.agreement, as_of, NAMES)]
    return QUERY_UNANSWERED in kinds


def queried(nation: str, asked_on: date) -> ClaimStory:
    return submit(date(2026, 3, 2), agreement=terms(nation=nation)).query(asked_on)


@pytest.mark.parametrize(
    ("nation", "asked_on", "first_day"),
    [
        # Thu 2 Apr 2026: England loses Good Friday and Easter Monday, Scotland only Friday.
        ("england", date(2026, 4, 2), date(2026, 4, 13)),
        ("wales", date(2026, 4, 2), date(2026, 4, 13)),
        ("scotland", date(2026, 4, 2), date(2026, 4, 10)),
        # Fri 13 Mar 2026: St Patrick's Day (Tue 17) is a holiday in Northern Ireland only.
        ("england", date(2026, 3, 13), date(2026, 3, 20)),
        ("northern_ireland", date(2026, 3, 13), date(2026, 3, 23)),
        # Wed 23 Dec 2026: Christmas Fri 25, Boxing Day observed Mon 28, New Year Fri 1 Jan;
        # Scotland also takes 2 Jan 2027 (a Saturday) on Mon 4 Jan.
        ("england", date(2026, 12, 23), date(2027, 1, 4)),
        ("scotland", date(2026, 12, 23), date(2027, 1, 5)),
    ],
)
def test_raised_after_five_working_days(nation: str, asked_on: date, first_day: date) -> None:
    story = (
        submit(date(2026, 12, 1), agreement=terms(nation=nation)).query(asked_on)
        if asked_on.month == 12
        else queried(nation, asked_on)
    )
    previous = date.fromordinal(first_day.toordinal() - 1)
    assert not unanswered(story, previous)
    assert unanswered(story, first_day)


def test_the_alert_goes_to_the_vcse_organisation_and_carries_the_question() -> None:
    story = queried("england", date(2026, 4, 2))
    [alert] = [
        c
        for c in claim_alerts(story.timeline, story.agreement, date(2026, 4, 14), NAMES)
        if c.kind == QUERY_UNANSWERED
    ]
    assert alert.level == "2026-04-02"
    assert alert.detail["question"] == "Which ward was this?"
    assert alert.detail["working_days_open"] == 6
    assert [(r.organisation_id, r.roles) for r in alert.audience] == [
        (PAYEE, ("vcse_admin", "vcse_member"))
    ]
    assert alert.title == (
        "Query unanswered: North ICB asked about a claim of £237.40 on 2 Apr 2026 "
        "— open 6 working days"
    )


def test_an_answer_ends_it_and_a_second_query_has_its_own_level() -> None:
    story = queried("england", date(2026, 3, 10))
    assert unanswered(story, date(2026, 3, 17))
    story.answer(date(2026, 3, 18))
    assert not unanswered(story, date(2026, 3, 18))
    story.query(date(2026, 3, 19))
    assert not unanswered(story, date(2026, 3, 25))
    [alert] = [
        c
        for c in claim_alerts(story.timeline, story.agreement, date(2026, 3, 26), NAMES)
        if c.kind == QUERY_UNANSWERED
    ]
    assert alert.level == "2026-03-19"


def test_an_amendment_answers_the_query() -> None:
    story = queried("england", date(2026, 3, 10)).amend(date(2026, 3, 20), 20000, True)
    assert not unanswered(story, date(2026, 3, 20))
