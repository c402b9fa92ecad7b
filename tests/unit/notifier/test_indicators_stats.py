"""Exact statistics behind the indicators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.notifier.indicators.stats import mean, median, percent, percentile


def test_median_of_odd_and_even_counts() -> None:
    assert median([7, 1, 3]) == Decimal(3)
    assert median([4, 1, 3, 10]) == Decimal("3.5")
    assert median([]) is None


def test_p90_is_the_nearest_rank() -> None:
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile(list(range(1, 12)), 90) == 10  # ceil(9.9) = 10th
    assert percentile([5], 90) == 5
    assert percentile([30, 2, 8], 90) == 30
    assert percentile([], 90) is None
    with pytest.raises(ValueError):
        percentile([1], 0)


def test_mean_and_percent_round_half_up_to_one_decimal() -> None:
    assert mean([1, 2]) == Decimal("1.5")
    assert mean([18, 38, 5]) == Decimal("20.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 0) is None
