"""Working days in the four UK nations, and the Europe/London calendar date of an instant."""

from __future__ import annotations

import functools
from bisect import bisect_right
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

NATIONS = ("england", "wales", "scotland", "northern_ireland")

_SUBDIVISIONS = {
    "england": "ENG",
    "wales": "WLS",
    "scotland": "SCT",
    "northern_ireland": "NIR",
}
LONDON = ZoneInfo("Europe/London")


def _subdivision(nation: str) -> str:
    try:
        return _SUBDIVISIONS[nation]
    except KeyError:
        raise ValueError(
            f"unknown nation {nation!r}: expected one of {', '.join(NATIONS)}"
        ) from None


@functools.cache
def bank_holidays(nation: str, year: int) -> frozenset[date]:
    """The bank holidays (with substitute days) of one nation in one year."""
    calendar = holidays.country_holidays("GB", subdiv=_subdivision(nation), years=year)
    return frozenset(calendar.keys())


def is_working_day(day: date, nation: str) -> bool:
    """Monday to Friday and not a bank holiday in that nation."""
    return day.weekday() < 5 and day not in bank_holidays(nation, day.year)


def add_working_days(day: date, count: int, nation: str) -> date:
    """The date ``count`` working days after ``day`` (``day`` itself is not counted)."""
    if count < 0:
        raise ValueError("count must not be negative")
    _subdivision(nation)
    result = day
    while count > 0:
        result += timedelta(days=1)
        if is_working_day(result, nation):
            count -= 1
    return result


def working_days_between(start: date, end: date, nation: str) -> int:
    """Working days in (start, end]; negative, symmetrically, when end is before start."""
    _subdivision(nation)
    if end < start:
        return -working_days_between(end, start, nation)
    # Counted, not walked day by day (the alert rules ask for every claim of every batch):
    # the weekdays in the interval, less its bank holidays that fall on a weekday.
    holidays_on_weekdays = 0
    for year in range(start.year, end.year + 1):
        days_off = _weekday_holidays(nation, year)
        holidays_on_weekdays += bisect_right(days_off, end) - bisect_right(days_off, start)
    return _weekdays_up_to(end) - _weekdays_up_to(start) - holidays_on_weekdays


@functools.cache
def _weekday_holidays(nation: str, year: int) -> tuple[date, ...]:
    """The bank holidays of that year that fall Monday to Friday, in order."""
    return tuple(sorted(day for day in bank_holidays(nation, year) if day.weekday() < 5))


def _weekdays_up_to(day: date) -> int:
    """Monday to Friday from 1 January of year 1 (a Monday) to ``day``, both included."""
    weeks, into_week = divmod(day.toordinal() - 1, 7)
    return weeks * 5 + min(into_week + 1, 5)


def london_date(instant: datetime) -> date:
    """The Europe/London calendar date of an aware instant."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(LONDON).date()
