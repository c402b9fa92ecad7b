from __future__ import annotations

from decimal import Decimal

import pytest

from shared.hours import parse_hours
from shared.money import format_pence, round_half_up


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("6415.75"), 6416),
        (Decimal("6415.5"), 6416),
        (Decimal("6415.49"), 6415),
        (Decimal("2.5"), 3),
        (Decimal("-2.5"), -3),
        (Decimal("0"), 0),
    ],
)
def test_round_half_up_to_the_penny(value: Decimal, expected: int) -> None:
    assert round_half_up(value) == expected


@pytest.mark.parametrize(
    ("pence", "shown"),
    [
        (0, "£0.00"),
        (5, "£0.05"),
        (123456, "£1,234.56"),
        (-1240, "-£12.40"),
        (10**8, "£1,000,000.00"),
    ],
)
def test_format_pence(pence: int, shown: str) -> None:
    assert format_pence(pence) == shown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3.5", "3.5"),
        ("3.50", "3.5"),
        (" 7 ", "7"),
        ("0.25", "0.25"),
        (".75", "0.75"),
        ("24", "24"),
        ("2.4e1", "24"),
        (2, "2"),
        (3.75, "3.75"),
        (Decimal("1.00"), "1"),
    ],
)
def test_parse_hours_accepts_quarter_steps(value: object, expected: str) -> None:
    hours = parse_hours(value)
    assert hours == Decimal(expected)
    assert str(hours) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3.3", "hours must be in quarter-hour steps"),
        (1.1, "hours must be in quarter-hour steps"),
        ("0", "hours must be between 0.25 and 24"),
        ("-1", "hours must be between 0.25 and 24"),
        ("24.25", "hours must be between 0.25 and 24"),
        (100, "hours must be between 0.25 and 24"),
        ("0.1", "hours must be between 0.25 and 24"),
        ("three", "hours must be a number"),
        ("", "hours must be a number"),
        ("NaN", "hours must be a number"),
        ("Infinity", "hours must be a number"),
        ("1_0", "hours must be a number"),
        (float("nan"), "hours must be a number"),
        (float("inf"), "hours must be a number"),
        (True, "hours must be a number"),
        (False, "hours must be a number"),
        (None, "hours must be a number"),
        ([3], "hours must be a number"),
        ("1" * 100, "hours must be a number"),
    ],
)
def test_parse_hours_refuses_with_a_human_message(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_hours(value)
