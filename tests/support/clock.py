"""A clock tests can move: the services take the time as a parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


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
