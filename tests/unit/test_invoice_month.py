"""The month of a month's invoice: YYYY-MM, a real month, with its first and last day."""

from __future__ import annotations

from datetime import date

import pytest

from services.ledger.domain.errors import ValidationFailed
from services.ledger.domain.invoice import read_month


def test_a_month_reads_as_its_first_and_last_day() -> None:
    assert read_month("2028-02") == ("2028-02", date(2028, 2, 1), date(2028, 2, 29))
    assert read_month("2026-12") == ("2026-12", date(2026, 12, 1), date(2026, 12, 31))


def test_the_last_month_a_date_can_hold_reads() -> None:
    assert read_month("9999-12")[2] == date(9999, 12, 31)


@pytest.mark.parametrize("month", ["0000-01", "0000-12", "2026-13", "2026-1", None])
def test_a_month_that_is_not_one_is_refused_on_the_field(month: object) -> None:
    with pytest.raises(ValidationFailed) as refused:
        read_month(month)
    assert list(refused.value.errors) == ["month"]
