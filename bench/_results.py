"""Where a benchmark records its figures for the report (bench/_report.py): one JSON line per
figure in the file BENCH_RESULTS names (`make bench` sets it); nothing when it is unset.
(A leading underscore: `make bench` runs every other file in bench/.)"""

from __future__ import annotations

import json
import os
from typing import Any


def record(
    bench: str,
    metric: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    **labels: Any,
) -> None:
    path = os.environ.get("BENCH_RESULTS")
    if not path:
        return
    line = {"bench": bench, "metric": metric, "value": value, "unit": unit, "baseline": baseline}
    line.update(labels)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
