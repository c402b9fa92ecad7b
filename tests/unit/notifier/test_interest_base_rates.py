"""The base rate history: packaged, overridable, checked."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.notifier.data import BASE_RATES_ENV, load_base_rates, parse_base_rates
from services.notifier.interest import (
    BaseRate,
    BaseRateHistory,
    late_payment_interest,
    statutory_rate_percent,
)
from services.notifier.model import Fact
from tests.unit.notifier.rules_builders import claim_timeline


def test_the_packaged_history_knows_the_recent_changes() -> None:
    rates = load_base_rates({})

    assert rates.rate_on(date(2020, 3, 19)) == Decimal("0.10")
    assert rates.rate_on(date(2023, 8, 2)) == Decimal("5.00")
    assert rates.rate_on(date(2023, 8, 3)) == Decimal("5.25")
    assert rates.rate_on(date(2024, 6, 30)) == Decimal("5.25")
    assert rates.rate_on(date(2024, 12, 31)) == Decimal("4.75")
    assert rates.rate_on(date(2025, 6, 30)) == Decimal("4.25")
    assert rates.rate_on(date(2025, 8, 7)) == Decimal("4.00")
    assert rates.rate_on(date(2025, 12, 17)) == Decimal("4.00")
    assert rates.rate_on(date(2025, 12, 18)) == Decimal("3.75")


def test_the_packaged_history_says_how_far_it_is_confirmed() -> None:
    rates = load_base_rates({})

    # The MPC held Bank Rate at 3.75% on 5 February and 19 March 2026.
    assert rates.confirmed_to == date(2026, 3, 19)
    assert not rates.is_unconfirmed(date(2025, 12, 31))
    assert not rates.is_unconfirmed(date(2026, 3, 19))
    assert rates.is_unconfirmed(date(2026, 3, 20))
    assert rates.is_unconfirmed(date(2026, 6, 30))


def test_a_debt_first_overdue_in_february_2026_gets_11_75_percent() -> None:
    rates = load_base_rates({})
    submitted = date(2026, 1, 2)  # payment due 1 February, first overdue 2 February
    timeline = claim_timeline(
        "c1",
        submitted,
        100_000,
        Fact("approved", date(2026, 1, 10), 100_000),
        hours="10",
    )

    interest = late_payment_interest(timeline, date(2026, 3, 4), rates)

    assert statutory_rate_percent(date(2026, 2, 2), rates) == Decimal("11.75")
    assert interest.reference_date == date(2025, 12, 31)
    assert interest.base_rate_percent == Decimal("3.75")
    assert interest.rate_percent == Decimal("11.75")
    # £1,000 for 31 days at 11.75%: 100,000 × 31 × 11.75 / 36,500 = 997.95… → 998p.
    assert interest.interest_pence == 998


def test_the_packaged_file_is_confirmed_in_order_with_decimal_strings() -> None:
    raw = json.loads(
        (Path(__file__).parents[3] / "services/notifier/data/base_rates.json").read_text()
    )
    assert set(raw) == {"confirmed_to", "source", "changes"}
    changes = raw["changes"]
    assert all(isinstance(entry["rate_percent"], str) for entry in changes)
    assert [e["effective_from"] for e in changes] == sorted(e["effective_from"] for e in changes)
    assert raw["confirmed_to"] >= changes[-1]["effective_from"]


def test_an_operator_file_replaces_the_packaged_one(tmp_path: Path) -> None:
    path = tmp_path / "rates.json"
    path.write_text(
        json.dumps(
            [
                {"effective_from": "2025-08-07", "rate_percent": "4.00"},
                {"effective_from": "2025-12-18", "rate_percent": "3.75"},
            ]
        )
    )

    rates = load_base_rates({BASE_RATES_ENV: str(path)})

    assert rates.rate_on(date(2025, 12, 31)) == Decimal("3.75")
    with pytest.raises(ValueError, match="no base rate is known"):
        rates.rate_on(date(2024, 1, 1))
    # The older shape, a bare list, is confirmed only to its last change.
    assert rates.confirmed_to == date(2025, 12, 18)
    assert rates.is_unconfirmed(date(2025, 12, 31))


def test_an_operator_file_may_say_how_far_it_is_confirmed(tmp_path: Path) -> None:
    path = tmp_path / "rates.json"
    path.write_text(
        json.dumps(
            {
                "confirmed_to": "2026-06-18",
                "source": "checked by the operator",
                "changes": [{"effective_from": "2025-12-18", "rate_percent": "3.75"}],
            }
        )
    )

    rates = load_base_rates({BASE_RATES_ENV: str(path)})

    assert rates.confirmed_to == date(2026, 6, 18)
    assert not rates.is_unconfirmed(date(2025, 12, 31))
    assert rates.is_unconfirmed(date(2026, 6, 30))


def test_a_history_cannot_be_confirmed_to_before_its_last_change() -> None:
    with pytest.raises(ValueError, match="before the last change"):
        BaseRateHistory((BaseRate(date(2025, 12, 18), Decimal("3.75")),), date(2025, 12, 1))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "non-empty list"),
        ({"effective_from": "2025-01-01"}, "expected confirmed_to and changes"),
        ({"changes": []}, "expected confirmed_to and changes"),
        ({"confirmed_to": "2026-03-19", "changes": [], "notes": ""}, "expected confirmed_to"),
        ({"confirmed_to": "19 March", "changes": []}, "confirmed_to: expected a date"),
        ({"confirmed_to": "2026-03-19", "changes": [], "source": 1}, "source: expected text"),
        ({"confirmed_to": "2026-03-19", "changes": []}, "changes: expected a non-empty list"),
        (
            {
                "confirmed_to": "2025-01-01",
                "changes": [{"effective_from": "2025-02-01", "rate_percent": "4"}],
            },
            "before the last change",
        ),
        ([{"effective_from": "2025-01-01"}], "exactly effective_from and rate_percent"),
        ([{"effective_from": "1 Jan 2025", "rate_percent": "4"}], "YYYY-MM-DD"),
        ([{"effective_from": "2025-01-01", "rate_percent": 4.5}], "as a string"),
        ([{"effective_from": "2025-01-01", "rate_percent": "four"}], "decimal"),
        ([{"effective_from": "2025-01-01", "rate_percent": "-1"}], "from 0 to 100"),
        (
            [
                {"effective_from": "2025-02-01", "rate_percent": "4"},
                {"effective_from": "2025-01-01", "rate_percent": "4.5"},
            ],
            "unique and in order",
        ),
    ],
)
def test_a_bad_history_is_refused_with_a_reason(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_base_rates(data)


def test_an_unreadable_override_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=BASE_RATES_ENV):
        load_base_rates({BASE_RATES_ENV: str(tmp_path / "missing.json")})
