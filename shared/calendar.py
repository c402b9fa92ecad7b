"""Working days in the four UK nations, and the Europe/London calendar date of an instant."""

from __future__ import annotations

import functools
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
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_working_day(start + timedelta(days=offset), nation)
    )


def london_date(instant: datetime) -> date:
    """The Europe/London calendar date of an aware instant."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(LONDON).date()
