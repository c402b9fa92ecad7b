"""Small exact statistics for the indicators: Decimal results, no floats.

Every percentage Bridges shows is rounded half up to one decimal place, on its own (`percent`):
one rounding for one figure wherever it appears, so shares of a whole may add up to 99.9 or
100.1 rather than two reports showing one figure two ways."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

TENTH = Decimal("0.1")


def median(values: Sequence[int]) -> Decimal | None:
    """The middle value (the mean of the two middle values for an even count); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[middle])
    return (Decimal(ordered[middle - 1]) + Decimal(ordered[middle])) / 2


def percentile(values: Sequence[int], percent: int) -> int | None:
    """The nearest-rank percentile: the smallest value with at least ``percent``% of the values
    at or below it (so P90 of 10 values is the 9th smallest); None if empty."""
    if not values:
        return None
    if not 0 < percent <= 100:
        raise ValueError("percent must be in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(percent * len(ordered) / 100)
    return ordered[rank - 1]


def mean(values: Sequence[int]) -> Decimal | None:
    """The arithmetic mean to one decimal place (half up); None if empty."""
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(TENTH, rounding=ROUND_HALF_UP)


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal place (half up); None if whole is 0."""
    if whole == 0:
        return None
    return (Decimal(100) * part / whole).quantize(TENTH, rounding=ROUND_HALF_UP)
