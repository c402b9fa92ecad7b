"""The product's clock: every default "now" of both services comes from here.

`now()` is the time the product works by: event times, "today" for the rules, statements and
alerts, delivery schedules, record timestamps. Unset, it is the host's clock. With
`BRIDGES_CLOCK_START` set to an ISO 8601 instant with an offset (`2026-12-01T10:00:00Z`), the
process's clock starts at that instant when it is first read and runs forward in real time.
That is for tests and rehearsals of a given date, never for production: a process using it says
so in a warning at start (`announce`).

`real_now()` is the host's clock, unshifted, for what is measured in real time between processes
that share the host's clock (leases, lock expiries). Elapsed times within a process use
`time.monotonic()` and are not the product's clock at all.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.calendar import london_date

CLOCK_START_ENV = "BRIDGES_CLOCK_START"

_lock = threading.Lock()
_configured = False
_start: datetime | None = None
_offset = timedelta(0)
_announced = False


def real_now() -> datetime:
    """The host's clock (UTC), never shifted."""
    return datetime.now(UTC)


def parse_start(value: str) -> datetime:
    """`BRIDGES_CLOCK_START`'s value as an aware instant; `ValueError` says what is wrong."""
    text = value.strip()
    try:
        instant = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(
            f"{CLOCK_START_ENV}={value!r} is not an ISO 8601 instant "
            "(for example 2026-12-01T10:00:00Z)"
        ) from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"{CLOCK_START_ENV}={value!r} has no UTC offset (write Z or +01:00 at the end)"
        )
    return instant.astimezone(UTC)


def configure(environ: Mapping[str, str] | None = None) -> datetime | None:
    """Read `BRIDGES_CLOCK_START` (again) and start the clock there now; the start, or None for
    the real clock. Called by the first `now()`; tests call it to change the setting."""
    global _configured, _start, _offset, _announced
    value = (os.environ if environ is None else environ).get(CLOCK_START_ENV, "").strip()
    start = parse_start(value) if value else None
    with _lock:
        _start = start
        _offset = start - real_now() if start is not None else timedelta(0)
        _configured = True
        _announced = False
    return start


def _ensure_configured() -> None:
    if not _configured:
        configure()


def now() -> datetime:
    """The product's current instant (UTC)."""
    _ensure_configured()
    return real_now() + _offset


def today() -> date:
    """The product's calendar date (Europe/London)."""
    return london_date(now())


def shifted_start() -> datetime | None:
    """The instant `BRIDGES_CLOCK_START` started this process's clock at, or None (real clock)."""
    _ensure_configured()
    return _start


def announce(log: Any) -> None:
    """Once per process: warn, loudly, when the clock is not the real one."""
    global _announced
    start = shifted_start()
    if start is None or _announced:
        return
    _announced = True
    log.warning(
        "clock.shifted",
        message=(
            f"{CLOCK_START_ENV} is set: this process's clock started at {start.isoformat()} "
            "instead of the real time. For tests and rehearsals only, never in production."
        ),
        clock_start=start.isoformat(),
        offset_seconds=round(_offset.total_seconds(), 3),
    )
