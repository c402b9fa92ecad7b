"""The product's clock seam (shared/clock.py): real unless BRIDGES_CLOCK_START shifts it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from shared import clock
from tests.support.clock import TEST_NOW, RunningClock, clock_env


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.configure()  # back to whatever the environment says


class Log:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, object]]] = []

    def warning(self, event: str, **fields: object) -> None:
        self.warnings.append((event, fields))


def test_unset_is_the_real_clock() -> None:
    assert clock.configure({}) is None
    assert abs(clock.now() - clock.real_now()) < timedelta(seconds=1)
    log = Log()
    clock.announce(log)
    assert log.warnings == []  # nothing to say on the real clock


def test_a_start_makes_the_clock_start_there_and_run_forward() -> None:
    start = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert clock.configure(clock_env(start)) == start
    first = clock.now()
    assert start <= first < start + timedelta(seconds=1)
    time.sleep(0.05)
    assert clock.now() - first >= timedelta(seconds=0.05)  # real time passes
    assert abs(clock.real_now() - datetime.now(UTC)) < timedelta(seconds=1)  # not shifted


@pytest.mark.parametrize(
    ("value", "instant", "london_day"),
    [
        ("2027-07-15T23:30:00Z", datetime(2027, 7, 15, 23, 30, tzinfo=UTC), date(2027, 7, 16)),
        ("2027-12-31T23:30+00:00", datetime(2027, 12, 31, 23, 30, tzinfo=UTC), date(2027, 12, 31)),
        (
            "2027-10-31T01:30:00+01:00",
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
            date(2027, 10, 31),
        ),
    ],
)
def test_the_start_is_an_iso_instant_and_today_is_london_s(
    value: str, instant: datetime, london_day: date
) -> None:
    assert clock.configure({clock.CLOCK_START_ENV: value}) == instant
    assert clock.today() == london_day


@pytest.mark.parametrize("value", ["tomorrow", "2027-03-28", "2027-03-28T10:00:00"])
def test_a_start_without_a_date_time_and_offset_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="BRIDGES_CLOCK_START"):
        clock.configure({clock.CLOCK_START_ENV: value})


def test_a_shifted_process_warns_once_that_it_is_not_for_production() -> None:
    clock.configure(clock_env(datetime(2026, 12, 1, 10, tzinfo=UTC)))
    log = Log()
    clock.announce(log)
    clock.announce(log)
    [(event, fields)] = log.warnings
    assert event == "clock.shifted"
    assert "2026-12-01T10:00:00+00:00" in str(fields["message"])
    assert "never in production" in str(fields["message"])


def test_the_tests_running_clock_starts_at_the_test_now() -> None:
    running = RunningClock()
    assert TEST_NOW <= running() < TEST_NOW + timedelta(seconds=5)
    assert clock.parse_start(running.env()[clock.CLOCK_START_ENV]) >= TEST_NOW
