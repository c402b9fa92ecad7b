"""When monthly statements fall due, and how a statement is identified."""

from __future__ import annotations

from datetime import date

import pytest

from services.notifier.statements.production import (
    first_working_day,
    previous_month,
    statement_id,
)


@pytest.mark.parametrize(
    ("year", "month", "nation", "expected"),
    [
        (2026, 1, "england", date(2026, 1, 2)),  # New Year's Day on a Thursday
        (2026, 1, "scotland", date(2026, 1, 5)),  # 2 January is a Scottish bank holiday
        (2026, 2, "england", date(2026, 2, 2)),  # 1 February is a Sunday
        (2026, 6, "wales", date(2026, 6, 1)),
        (2027, 3, "northern_ireland", date(2027, 3, 1)),
        (2025, 11, "england", date(2025, 11, 3)),  # 1 November is a Saturday
    ],
)
def test_first_working_day(year: int, month: int, nation: str, expected: date) -> None:
    assert first_working_day(year, month, nation) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 2), (date(2025, 12, 1), date(2025, 12, 31))),
        (date(2026, 3, 2), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2028, 3, 1), (date(2028, 2, 1), date(2028, 2, 29))),
    ],
)
def test_previous_month(day: date, expected: tuple[date, date]) -> None:
    assert previous_month(day) == expected


def test_a_statement_id_is_stable_and_distinct_per_trigger() -> None:
    monthly = statement_id("p1", "hope", "icb", "outstanding", date(2026, 1, 31), "monthly")

    assert monthly == statement_id("p1", "hope", "icb", "outstanding", date(2026, 1, 31), "monthly")
    assert monthly != statement_id(
        "p1", "hope", "icb", "outstanding", date(2026, 1, 31), "on_demand"
    )
    assert monthly != statement_id("p1", "hope", "icb", "activity", date(2026, 1, 31), "monthly")
