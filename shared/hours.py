"""Hours worked: a Decimal in quarter-hour steps from 0.25 to 24."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MIN_HOURS = Decimal("0.25")
MAX_HOURS = Decimal("24")

# Decimal notation only: no underscores, "NaN" or "Infinity" (Decimal() would take them).
_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?\s*")
_MAX_TEXT = 40


def parse_hours(value: object) -> Decimal:
    """Parse hours from a string, int, float or Decimal; raise ValueError with a human message."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("hours must be a number")
    text = str(value)
    if len(text) > _MAX_TEXT or not _NUMERIC.fullmatch(text):
        raise ValueError("hours must be a number")
    try:
        hours = Decimal(text.strip())
    except InvalidOperation as error:  # pragma: no cover - the pattern already refused it
        raise ValueError("hours must be a number") from error
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise ValueError("hours must be between 0.25 and 24")
    if (hours * 4) % 1 != 0:
        raise ValueError("hours must be in quarter-hour steps")
    return canonical_hours(hours)


def canonical_hours(hours: Decimal) -> Decimal:
    """One spelling per quantity ("3.5", "7", "0.25"), so events and their JSON compare equal."""
    if hours == hours.to_integral_value():
        return hours.quantize(Decimal(1))
    return hours.quantize(Decimal("0.01")).normalize()
