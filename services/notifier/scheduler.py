"""The scheduler's tick: the time-based rules as at today, then sending, then daily digests.

`tick` is one pass; the process loop that calls it every `tick_seconds` lives in runner.py.
`check` is the operator's "as at" evaluation behind `bridges notifier check --as-of DATE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from shared.calendar import LONDON, london_date
from shared.sql import begin_write

from .alerts import RaisedAlert, assess
from .delivery import DigestReport, DispatchCounts, dispatch_due, send_digests
from .settings import NotifierSettings
from .statements.distribution import send_monthly_statements


@dataclass
class TickReport:
    as_of: date
    raised: list[RaisedAlert] = field(default_factory=list)
    resolved: int = 0
    reopened: int = 0
    dispatched: DispatchCounts = field(default_factory=DispatchCounts)
    digests: DigestReport | None = None
    statements: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "raised": len(self.raised),
            "resolved": self.resolved,
            "reopened": self.reopened,
            "dispatched": self.dispatched.to_json(),
            "digests_queued": self.digests.queued if self.digests is not None else None,
            "statements": self.statements,
        }


def tick(engine: Engine, now: datetime, settings: NotifierSettings) -> TickReport:
    """One pass: evaluate every rule as at London's today and, on the first working day of a
    month, produce and queue last month's statements (one transaction); send due deliveries;
    and from `digest_hour` (London) send the day's digests once."""
    as_of = london_date(now)
    with begin_write(engine) as connection:
        evaluation = assess(connection, as_of, now)
        statements = send_monthly_statements(connection, as_of, now)
    report = TickReport(
        as_of,
        raised=evaluation.raised,
        resolved=len(evaluation.resolved),
        reopened=len(evaluation.reopened),
        statements=len(statements),
    )
    report.dispatched = dispatch_due(engine, now, settings)
    if now.astimezone(LONDON).hour >= settings.digest_hour:
        report.digests = send_digests(engine, as_of, now, settings)
        report.dispatched.add(report.digests.dispatched)
    return report


class _RollBack(Exception):
    """Leaves begin_write by rolling back (a dry run)."""


def check(
    engine: Engine, as_of: date, now: datetime, *, dry_run: bool = False
) -> list[RaisedAlert]:
    """Evaluate every rule as at `as_of` and raise what holds (deliveries queued for the
    dispatcher). With `dry_run`, report what would be raised and write nothing."""
    raised: list[RaisedAlert] = []
    try:
        with begin_write(engine) as connection:
            raised = assess(connection, as_of, now).raised
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    return raised


def format_report(as_of: date, raised: Sequence[RaisedAlert], *, dry_run: bool = False) -> str:
    """A human-readable account of a check, one line per alert."""
    verb = "would raise" if dry_run else "raised"
    if not raised:
        return f"As at {as_of.isoformat()}: no new alerts."
    lines = [f"As at {as_of.isoformat()}: {verb} {len(raised)} alert(s)."]
    for alert in sorted(raised, key=lambda a: (a.kind, a.title)):
        queued = "" if dry_run else f" [{alert.deliveries_queued} deliveries]"
        lines.append(f"  {alert.kind:<18} {alert.level:<10} {alert.title}{queued}")
    return "\n".join(lines)
