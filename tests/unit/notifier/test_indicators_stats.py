"""Exact statistics behind the indicators."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.indicators.stats import mean, median, percent, percentile, shares_of_100


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


def test_shares_of_100_add_up_even_when_thirds_do_not() -> None:
    assert shares_of_100([1, 1, 1]) == [Decimal("33.4"), Decimal("33.3"), Decimal("33.3")]
    assert shares_of_100([2, 1, 0]) == [Decimal("66.7"), Decimal("33.3"), Decimal("0.0")]
    assert shares_of_100([0, 5, 0]) == [Decimal("0.0"), Decimal("100.0"), Decimal("0.0")]
    assert shares_of_100([0, 0, 0]) is None


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6))
def test_shares_of_100_always_sum_to_exactly_100(counts: list[int]) -> None:
    shares = shares_of_100(counts)
    if sum(counts) == 0:
        assert shares is None
        return
    assert shares is not None
    assert sum(shares) == Decimal(100)
    for count, share in zip(counts, shares, strict=True):
        exact = Decimal(100) * count / sum(counts)
        assert abs(share - exact) < Decimal("0.1")
