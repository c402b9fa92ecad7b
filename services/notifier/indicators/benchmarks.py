"""The public benchmarks every payment figure is shown against, as structured data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared.i18n import N_, gettext


@dataclass(frozen=True)
class Benchmark:
    """A target for one kind of figure: ``at_most`` (days) or ``at_least`` (a percentage)."""

    key: str
    name: str
    target: Decimal
    unit: str  # days | percent
    comparison: str  # at_most | at_least

    def assess(self, value: Decimal | int | None) -> dict[str, Any]:
        """``{"benchmark", "key", "target", "unit", "comparison", "met"}``; ``met`` is None when
        there is no figure to judge (nothing fell in the period)."""
        met: bool | None
        if value is None:
            met = None
        elif self.comparison == "at_most":
            met = Decimal(value) <= self.target
        else:
            met = Decimal(value) >= self.target
        return {
            "benchmark": self.name,
            "key": self.key,
            "target": _number(self.target),
            "unit": self.unit,
            "comparison": self.comparison,
            "met": met,
        }


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


STATUTORY_30_DAYS = Benchmark(
    "statutory_30_days",
    "Pay within 30 days (Public Contracts Regulations 2015 reg. 113; Procurement Act 2023 s.68)",
    Decimal(30),
    "days",
    "at_most",
)
NHS_BPPC = Benchmark(
    "nhs_bppc",
    "NHS Better Payment Practice Code: 95% of invoices paid within 30 days",
    Decimal(95),
    "percent",
    "at_least",
)
COMPACT_10_DAYS = Benchmark(
    "compact_10_days",
    "The Compact: pay voluntary organisations within 10 days",
    Decimal(10),
    "days",
    "at_most",
)
CENTRAL_GOVERNMENT_5_DAYS = Benchmark(
    "central_government_5_days",
    "Central government aim: 90% of SME invoices paid within 5 days",
    Decimal(90),
    "percent",
    "at_least",
)
CENTRAL_GOVERNMENT_5_DAYS_P90 = Benchmark(
    "central_government_5_days",
    "Central government aim: 90% of SME invoices paid within 5 days",
    Decimal(5),
    "days",
    "at_most",
)

BENCHMARKS_LINE = N_(
    "Benchmarks: pay within 30 days (Public Contracts Regulations 2015 reg. 113; Procurement "
    "Act 2023 s.68); NHS Better Payment Practice Code, 95% of invoices within 30 days; the "
    "Compact, 10 days to pay voluntary organisations; central government's aim, 90% of SME "
    "invoices within 5 days."
)


def benchmarks_line() -> str:
    """The benchmarks line in the language of the moment (English in the JSON)."""
    return gettext(BENCHMARKS_LINE)
