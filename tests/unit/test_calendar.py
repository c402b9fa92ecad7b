from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger.domain.clocks import approval_due, payment_due
from shared.calendar import (
    NATIONS,
    add_working_days,
    bank_holidays,
    is_working_day,
    london_date,
    working_days_between,
)

GOOD_FRIDAY = date(2026, 4, 3)
EASTER_MONDAY = date(2026, 4, 6)


def test_nations() -> None:
    assert NATIONS == ("england", "wales", "scotland", "northern_ireland")


@pytest.mark.parametrize("nation", ["england", "wales"])
def test_easter_2026_in_england_and_wales(nation: str) -> None:
    assert not is_working_day(GOOD_FRIDAY, nation)
    assert not is_working_day(EASTER_MONDAY, nation)
    # Thu 2 Apr + 5 working days: (Fri 3 and Mon 6 are holidays) Tue 7, Wed 8, Thu 9, Fri 10,
    # Mon 13.
    assert approval_due(date(2026, 4, 2), 5, nation) == date(2026, 4, 13)


def test_easter_monday_is_not_a_scottish_bank_holiday() -> None:
    assert not is_working_day(GOOD_FRIDAY, "scotland")
    assert is_working_day(EASTER_MONDAY, "scotland")
    # Mon 6, Tue 7, Wed 8, Thu 9, Fri 10.
    assert approval_due(date(2026, 4, 2), 5, "scotland") == date(2026, 4, 10)


def test_second_of_january_is_a_scottish_bank_holiday_only() -> None:
    second = date(2026, 1, 2)  # a Friday
    assert not is_working_day(second, "scotland")
    for nation in ("england", "wales", "northern_ireland"):
        assert is_working_day(second, nation)


def test_st_patricks_day_in_northern_ireland_only() -> None:
    patricks = date(2026, 3, 17)  # a Tuesday
    assert not is_working_day(patricks, "northern_ireland")
    assert is_working_day(patricks, "england")
    assert add_working_days(date(2026, 3, 16), 1, "northern_ireland") == date(2026, 3, 18)
    assert add_working_days(date(2026, 3, 16), 1, "england") == date(2026, 3, 17)


@pytest.mark.parametrize("nation", NATIONS)
def test_christmas_2026_boxing_day_is_observed_on_monday_28th(nation: str) -> None:
    holidays = bank_holidays(nation, 2026)
    assert date(2026, 12, 25) in holidays
    assert date(2026, 12, 28) in holidays
    # Thu 24 Dec + 1 working day: Fri 25, Sat, Sun, Mon 28 are all off.
    assert add_working_days(date(2026, 12, 24), 1, nation) == date(2026, 12, 29)


def test_wales_follows_england() -> None:
    assert bank_holidays("wales", 2026) == bank_holidays("england", 2026)


def test_add_working_days_does_not_count_the_start_day() -> None:
    friday = date(2026, 6, 5)
    assert add_working_days(friday, 0, "england") == friday
    assert add_working_days(friday, 1, "england") == date(2026, 6, 8)
    # Friday before the late May bank holiday (Mon 25 May 2026).
    assert add_working_days(date(2026, 5, 22), 1, "england") == date(2026, 5, 26)
    saturday = date(2026, 6, 6)
    assert add_working_days(saturday, 1, "england") == date(2026, 6, 8)


def test_add_working_days_crosses_the_year_end() -> None:
    # Wed 30 Dec 2026: Thu 31 (1), Fri 1 Jan holiday, Mon 4 Jan (2).
    assert add_working_days(date(2026, 12, 30), 2, "england") == date(2027, 1, 4)


def test_add_working_days_refuses_negative_counts_and_unknown_nations() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        add_working_days(date(2026, 1, 5), -1, "england")
    with pytest.raises(ValueError, match="unknown nation"):
        add_working_days(date(2026, 1, 5), 1, "cornwall")
    with pytest.raises(ValueError, match="unknown nation"):
        is_working_day(date(2026, 1, 5), "cornwall")


def test_working_days_between_counts_the_end_not_the_start() -> None:
    thursday = date(2026, 4, 2)
    assert working_days_between(thursday, thursday, "england") == 0
    assert working_days_between(thursday, date(2026, 4, 13), "england") == 5
    assert working_days_between(thursday, date(2026, 4, 13), "scotland") == 6
    assert working_days_between(date(2026, 4, 13), thursday, "england") == -5
    for days in range(0, 40):
        end = add_working_days(thursday, days, "northern_ireland")
        assert working_days_between(thursday, end, "northern_ireland") == days


def test_payment_due_at_receipt_counts_calendar_days() -> None:
    assert payment_due(date(2026, 4, 2), 30) == date(2026, 5, 2)
    assert payment_due(date(2026, 1, 30), 30) == date(2026, 3, 1)


def test_london_date_of_an_instant() -> None:
    # 23:30 UTC on 30 June is already 1 July in London (BST).
    assert london_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == date(2026, 7, 1)
    # In winter London is on UTC.
    assert london_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 12, 31)
    new_york = timezone(timedelta(hours=-5))
    assert london_date(datetime(2026, 1, 1, 20, 0, tzinfo=new_york)) == date(2026, 1, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        london_date(datetime(2026, 1, 1, 12, 0))


@settings(max_examples=300, deadline=None)
@given(
    st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
    st.integers(min_value=-800, max_value=800),
    st.sampled_from(NATIONS),
)
def test_working_days_between_is_the_count_of_working_days_one_by_one(
    start: date, days: int, nation: str
) -> None:
    """Counted from the weeks and the bank holidays: the same as walking the days."""
    end = start + timedelta(days=days)
    low, high = min(start, end), max(start, end)
    walked = sum(
        1
        for offset in range(1, (high - low).days + 1)
        if is_working_day(low + timedelta(days=offset), nation)
    )
    assert working_days_between(start, end, nation) == (walked if end >= start else -walked)
