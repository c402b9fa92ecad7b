"""The base rate history: packaged, overridable, checked."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.notifier.data import BASE_RATES_ENV, load_base_rates, parse_base_rates


def test_the_packaged_history_knows_the_recent_changes() -> None:
    rates = load_base_rates({})

    assert rates.rate_on(date(2020, 3, 19)) == Decimal("0.10")
    assert rates.rate_on(date(2023, 8, 2)) == Decimal("5.00")
    assert rates.rate_on(date(2023, 8, 3)) == Decimal("5.25")
    assert rates.rate_on(date(2024, 6, 30)) == Decimal("5.25")
    assert rates.rate_on(date(2024, 12, 31)) == Decimal("4.75")
    assert rates.rate_on(date(2025, 6, 30)) == Decimal("4.25")
    assert rates.rate_on(date(2025, 8, 7)) == Decimal("4.00")


def test_the_packaged_history_is_in_order_with_decimal_strings() -> None:
    raw = json.loads(
        (Path(__file__).parents[3] / "services/notifier/data/base_rates.json").read_text()
    )
    assert all(isinstance(entry["rate_percent"], str) for entry in raw)
    assert [e["effective_from"] for e in raw] == sorted(e["effective_from"] for e in raw)


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


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "non-empty list"),
        ({"effective_from": "2025-01-01"}, "non-empty list"),
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
