"""Saying so when interest rests on a base rate after the data's ``confirmed_to``: in the
statement (JSON, CSV, PDF), the indicators and the log; and nowhere when it does not."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pypdf import PdfReader
from structlog.testing import capture_logs

from services.notifier.base_rate_notice import (
    STALE_BASE_RATES,
    StaleBaseRateLog,
    base_rate_notice,
)
from services.notifier.data import warn_of_stale_base_rates_at_start
from services.notifier.indicators import Period, Scope, compute_indicators
from services.notifier.interest import BaseRate, BaseRateHistory
from services.notifier.model import ClaimTimeline, Fact
from services.notifier.statements import (
    Parties,
    Party,
    Statement,
    build_outstanding_statement,
    render,
)
from tests.unit.notifier.rules_builders import claim_timeline

RATES = BaseRateHistory((BaseRate(date(2025, 12, 18), Decimal("3.75")),), date(2026, 3, 19))
PARTIES = Parties(Party("p1", "North Partnership"), Party("hope", "Hope"), Party("icb", "ICB"))
PRODUCED = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def claim(claim_id: str, submitted_on: date) -> ClaimTimeline:
    """£1,000 approved at once, payment due 30 days after submission, never paid."""
    return claim_timeline(
        claim_id,
        submitted_on,
        100_000,
        Fact("approved", submitted_on + timedelta(days=2), 100_000),
        hours="3",
    )


FEBRUARY = claim("c-feb", date(2026, 1, 2))  # first overdue 2 Feb 2026: 31 Dec 2025 rate
AUGUST = claim("c-aug", date(2026, 7, 2))  # first overdue 2 Aug 2026: 30 June 2026 rate


def outstanding(as_at: date, *timelines: ClaimTimeline) -> Statement:
    body = build_outstanding_statement(PARTIES, list(timelines), as_at, RATES)
    return Statement("s-1", "outstanding", "on_demand", PRODUCED, body)


def pdf_text(statement: Statement) -> str:
    data, _, _ = render(statement, "pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def test_the_notice_tells_the_reference_dates_past_confirmed_to() -> None:
    fine = base_rate_notice(RATES, [date(2025, 12, 31), None, date(2025, 12, 31)])
    stale = base_rate_notice(RATES, [date(2026, 6, 30), date(2025, 12, 31)])

    assert not fine.stale and fine.message is None
    assert fine.to_json() == {
        "confirmed_to": "2026-03-19",
        "stale": False,
        "reference_dates": ["2025-12-31"],
        "reference_dates_unconfirmed": [],
        "message": None,
    }
    assert stale.stale
    assert stale.to_json()["reference_dates"] == ["2025-12-31", "2026-06-30"]
    assert stale.to_json()["reference_dates_unconfirmed"] == ["2026-06-30"]
    assert stale.message is not None
    assert "30 June 2026" in stale.message and "confirmed to 19 March 2026" in stale.message


def test_a_statement_within_confirmed_data_carries_no_warning() -> None:
    statement = outstanding(date(2026, 3, 31), FEBRUARY)

    document = json.loads(render(statement, "json")[0])
    assert document["items"][0]["interest_rate_percent"] == "11.75"
    assert document["base_rate_data"] == {
        "confirmed_to": "2026-03-19",
        "stale": False,
        "reference_dates": ["2025-12-31"],
        "reference_dates_unconfirmed": [],
        "message": None,
    }
    rows = list(csv.DictReader(io.StringIO(render(statement, "csv")[0].decode())))
    assert "warning" not in {row["row_type"] for row in rows}
    text = pdf_text(statement)
    assert "Warning" not in text and "confirmed to" not in text


def test_a_statement_past_confirmed_data_says_so_in_json_csv_and_pdf() -> None:
    statement = outstanding(date(2026, 9, 30), FEBRUARY, AUGUST)

    document = json.loads(render(statement, "json")[0])
    data = document["base_rate_data"]
    assert data["stale"] is True
    assert data["confirmed_to"] == "2026-03-19"
    assert data["reference_dates_unconfirmed"] == ["2026-06-30"]
    assert "30 June 2026" in data["message"]
    [warning] = [
        row
        for row in csv.DictReader(io.StringIO(render(statement, "csv")[0].decode()))
        if row["row_type"] == "warning"
    ]
    assert warning["label"] == data["message"]
    text = pdf_text(statement)
    assert "Warning: Late payment interest here uses the Bank of England base rate on 30 June" in (
        text
    )
    assert "confirmed to 19 March 2026" in text


def test_indicators_say_whether_their_interest_rests_on_confirmed_rates() -> None:
    scope = Scope(partnership_id="p1")
    spring = compute_indicators(
        [FEBRUARY, AUGUST], scope, Period(date(2026, 2, 1), date(2026, 3, 31)), RATES
    )
    autumn = compute_indicators(
        [FEBRUARY, AUGUST], scope, Period(date(2026, 8, 1), date(2026, 9, 30)), RATES
    )
    # Before any interest: nothing to confirm.
    quiet = compute_indicators([AUGUST], scope, Period(date(2026, 7, 1), date(2026, 7, 31)), RATES)

    assert spring.to_json()["base_rate_data"]["stale"] is False
    assert spring.to_json()["base_rate_data"]["reference_dates"] == ["2025-12-31"]
    autumn_data = autumn.to_json()["base_rate_data"]
    assert autumn_data["stale"] is True
    assert autumn_data["reference_dates_unconfirmed"] == ["2026-06-30"]
    assert "30 June 2026" in autumn_data["message"]
    assert quiet.to_json()["base_rate_data"]["reference_dates"] == []
    assert quiet.to_json()["base_rate_data"]["stale"] is False


def test_the_log_warns_once_per_process_and_unconfirmed_date() -> None:
    log = StaleBaseRateLog()
    stale = base_rate_notice(RATES, [date(2026, 6, 30)])
    fine = base_rate_notice(RATES, [date(2025, 12, 31)])

    with capture_logs() as logs:
        assert log.warn(fine, needed_by="indicators") == []
        assert log.warn(stale, needed_by="outstanding statement") == [date(2026, 6, 30)]
        assert log.warn(stale, needed_by="outstanding statement") == []

    assert logs == [
        {
            "event": "base rate data stale",
            "log_level": "warning",
            "reference_date": "2026-06-30",
            "confirmed_to": "2026-03-19",
            "needed_by": "outstanding statement",
            "hint": logs[0]["hint"],
        }
    ]
    assert "confirmed_to" in logs[0]["hint"]


def test_the_notifier_warns_at_start_when_todays_reference_date_is_unconfirmed() -> None:
    STALE_BASE_RATES.forget()  # as a fresh process
    try:
        with capture_logs() as logs:
            # 1 May 2026: a debt first overdue today takes the 31 Dec 2025 rate, confirmed.
            assert (
                warn_of_stale_base_rates_at_start(date(2026, 5, 1), process="test", environ={})
                == []
            )
            # 1 July 2026: the 30 June 2026 rate, after the packaged data's 19 March 2026.
            assert warn_of_stale_base_rates_at_start(
                date(2026, 7, 1), process="test", environ={}
            ) == [date(2026, 6, 30)]
    finally:
        STALE_BASE_RATES.forget()

    assert [(entry["event"], entry["reference_date"]) for entry in logs] == [
        ("base rate data stale", "2026-06-30")
    ]
    assert logs[0]["needed_by"] == "test start"
