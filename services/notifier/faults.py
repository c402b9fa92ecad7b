"""Fault injection for the exactly-once tests (RELIABILITY.md R3): off unless
`BRIDGES_NOTIFIER_CRASH` names crash points and a probability, e.g.
`BRIDGES_NOTIFIER_CRASH=mid_batch,before_commit,after_commit,after_send:0.05`.

The process then exits with `os._exit` (no cleanup, no flush) at a named point with that
probability, as a power cut would. Production never sets the variable.
"""

from __future__ import annotations

import os
import random

_SPEC = os.environ.get("BRIDGES_NOTIFIER_CRASH", "")
_POINTS, _, _PROBABILITY = _SPEC.partition(":")
_ENABLED = frozenset(p for p in _POINTS.split(",") if p)
_CHANCE = float(_PROBABILITY or "0") if _ENABLED else 0.0
_random = random.Random(os.environ.get("BRIDGES_NOTIFIER_CRASH_SEED"))  # noqa: S311 - not crypto

CRASH_EXIT_CODE = 86


def maybe_crash(point: str) -> None:
    if point in _ENABLED and _random.random() < _CHANCE:
        os._exit(CRASH_EXIT_CODE)
