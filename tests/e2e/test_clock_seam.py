"""A `bridges` process runs on the clock BRIDGES_CLOCK_START gives it, and says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BRIDGES = str(Path(sys.executable).with_name("bridges"))


def bridges(tmp_path: Path, *args: str, start: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BRIDGES_CLOCK_START": start,
        "NOTIFIER_DATABASE_URL": f"sqlite:///{tmp_path / 'notifier.db'}",
    }
    return subprocess.run(
        [BRIDGES, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_process_started_at_an_instant_works_on_that_day_and_warns(tmp_path: Path) -> None:
    # 23:30 UTC in summer is already the next day in London, the product's calendar.
    result = bridges(tmp_path, "notifier", "check", "--dry-run", start="2027-07-15T23:30:00Z")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "As at 2027-07-16: no new alerts."
    assert '"event": "clock.shifted"' in result.stderr
    assert "never in production" in result.stderr


def test_a_malformed_start_stops_the_process_with_the_reason(tmp_path: Path) -> None:
    result = bridges(tmp_path, "notifier", "check", "--dry-run", start="next tuesday")
    assert result.returncode == 2
    assert "BRIDGES_CLOCK_START='next tuesday' is not an ISO 8601 instant" in result.stderr
