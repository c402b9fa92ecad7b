"""Whether the base rate data covers the reference dates a statement or indicator needs.

Statutory interest takes the Bank of England base rate on a reference date (30 June or
31 December, see `interest.reference_date`). The base rate history is known to be right only
to its ``confirmed_to`` date; a reference date after it gets the last known rate, which is
wrong if Bank Rate changed in between. `base_rate_notice` says so, for the API answers, the
pages, the PDF and CSV; `StaleBaseRateLog` writes it to the notifier's log, once per process
and reference date.

`base_rate_notice` and `BaseRateNotice` are pure; only `StaleBaseRateLog` does I/O (a log line).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.logging import get_logger

from .interest import BaseRateHistory, reference_date


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class BaseRateNotice:
    """The reference dates a figure used, and those past the data's ``confirmed_to``."""

    confirmed_to: date
    reference_dates: tuple[date, ...]  # every reference date used, in order
    unconfirmed: tuple[date, ...]  # those after confirmed_to, in order

    @property
    def stale(self) -> bool:
        return bool(self.unconfirmed)

    @property
    def message(self) -> str | None:
        """What a reader is told when the interest rests on unconfirmed rates; else None."""
        if not self.unconfirmed:
            return None
        days = " and ".join(long_date(day) for day in self.unconfirmed)
        return (
            f"Late payment interest here uses the Bank of England base rate on {days}, but "
            "Bridges' base rate data is only confirmed to "
            f"{long_date(self.confirmed_to)}. If Bank Rate changed after that, the interest "
            "shown is wrong until the base rate data is updated."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "confirmed_to": self.confirmed_to.isoformat(),
            "stale": self.stale,
            "reference_dates": [day.isoformat() for day in self.reference_dates],
            "reference_dates_unconfirmed": [day.isoformat() for day in self.unconfirmed],
            "message": self.message,
        }


def base_rate_notice(
    rates: BaseRateHistory, reference_dates: Iterable[date | None]
) -> BaseRateNotice:
    """The notice for the reference dates some interest used (None: no interest, ignored)."""
    used = tuple(sorted({day for day in reference_dates if day is not None}))
    return BaseRateNotice(
        rates.confirmed_to, used, tuple(day for day in used if rates.is_unconfirmed(day))
    )


def today_notice(rates: BaseRateHistory, today: date) -> BaseRateNotice:
    """The notice for a debt first overdue ``today``: is its reference date confirmed?"""
    return base_rate_notice(rates, [reference_date(today)])


class StaleBaseRateLog:
    """Warns in the log about each unconfirmed reference date once per process (one instance
    per process, `STALE_BASE_RATES`), so a busy notifier does not repeat itself per request."""

    def __init__(self) -> None:
        self._warned: set[date] = set()
        self._lock = threading.Lock()

    def warn(self, notice: BaseRateNotice, *, needed_by: str) -> list[date]:
        """Log a warning for each of the notice's unconfirmed dates not warned of yet;
        returns those dates."""
        with self._lock:
            new = [day for day in notice.unconfirmed if day not in self._warned]
            self._warned.update(new)
        for day in new:
            get_logger("notifier.base_rates").warning(
                "base rate data stale",
                reference_date=day.isoformat(),
                confirmed_to=notice.confirmed_to.isoformat(),
                needed_by=needed_by,
                hint="add any change of Bank Rate and move confirmed_to on in "
                "services/notifier/data/base_rates.json (or BRIDGES_BASE_RATES_FILE)",
            )
        return new

    def warn_at_start(self, rates: BaseRateHistory, today: date, *, process: str) -> list[date]:
        """At start: warn if a debt first overdue today already needs an unconfirmed rate."""
        return self.warn(today_notice(rates, today), needed_by=f"{process} start")

    def forget(self) -> None:
        """Forget what was warned of (for tests that start from a fresh process's state)."""
        with self._lock:
            self._warned.clear()


STALE_BASE_RATES = StaleBaseRateLog()
