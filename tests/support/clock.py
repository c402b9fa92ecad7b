"""The tests' clock. No test reads the wall clock unless it is about the wall clock.

`TEST_NOW` is the one "now" of a test run: `BRIDGES_TEST_NOW` (an ISO 8601 instant, as the
calendar sweep sets it) when set, else a fixed instant. In-process product code gets it as a
parameter (`MovableClock`, `RunningClock`); processes a test starts get it through the product's
own seam, `BRIDGES_CLOCK_START` (`clock_env`).
"""

from __future__ import annotations

import os
import time as _time
from datetime import UTC, date, datetime, time, timedelta

from shared.calendar import london_date
from shared.clock import CLOCK_START_ENV, parse_start

TEST_NOW_ENV = "BRIDGES_TEST_NOW"
# A Wednesday in the middle of a month, in GMT, neither a bank holiday nor near a month's end.
DEFAULT_TEST_NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def _test_now() -> datetime:
    value = os.environ.get(TEST_NOW_ENV, "").strip()
    if not value:
        return DEFAULT_TEST_NOW
    try:
        return parse_start(value)
    except ValueError as error:
        raise ValueError(str(error).replace(CLOCK_START_ENV, TEST_NOW_ENV)) from None


TEST_NOW: datetime = _test_now()
TEST_TODAY: date = london_date(TEST_NOW)  # the product's "today" is London's


def clock_env(at: datetime | None = None) -> dict[str, str]:
    """The environment that starts a product process's clock at `at` (default `TEST_NOW`)."""
    return {CLOCK_START_ENV: (at or TEST_NOW).astimezone(UTC).isoformat()}


class RunningClock:
    """Starts at `start` (default `TEST_NOW`) and runs forward in real time, like the clock of
    a process started with `BRIDGES_CLOCK_START`; `env()` hands its current reading to one."""

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start or TEST_NOW
        self._started = _time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=_time.monotonic() - self._started)

    def today(self) -> date:
        return london_date(self())

    def env(self) -> dict[str, str]:
        return clock_env(self())


class MovableClock:
    def __init__(self, day: date) -> None:
        self.now = datetime.combine(day, time(10, 0), tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def today(self) -> date:
        return self.now.date()

    def set(self, day: date) -> None:
        self.now = datetime.combine(day, time(10, 0), tzinfo=UTC)

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)
