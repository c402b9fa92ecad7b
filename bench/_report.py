"""`make bench`'s report: var/bench/report.md with a table of every recorded figure (from
results.jsonl, see bench/_results.py), plots (matplotlib PNGs beside it) and each benchmark's
printed output. (A leading underscore: `make bench` runs every other file in bench/.)

    .venv/bin/python bench/_report.py var/bench
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def machine() -> str:
    cpus = os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    try:
        memory = next(
            line.split(":")[1].strip()
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        memory = "unknown"
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, {memory} memory, Python "
        f"{platform.python_version()}; load average at the end of the run {load}"
    )


def plot_p4(rows: list[dict[str, Any]], folder: Path) -> str | None:
    p50 = sorted(
        (r["offered"], r["value"], r["achieved"]) for r in rows if r["metric"] == "alert p50"
    )
    p99 = sorted((r["offered"], r["value"]) for r in rows if r["metric"] == "alert p99")
    if not p50:
        return None
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot([o for o, _, _ in p50], [v for _, v, _ in p50], "o-", label="p50")
    left.plot([o for o, _ in p99], [v for _, v in p99], "s-", label="p99")
    left.axhline(250, color="grey", linestyle="--", label="goal p99 250 ms")
    left.set(
        xlabel="offered claims/s",
        ylabel="submission -> alert visible (ms)",
        title="P4 latency against load",
    )
    left.legend()
    right.plot([o for o, _, _ in p50], [a for _, _, a in p50], "o-", label="achieved")
    right.plot([o for o, _, _ in p50], [o for o, _, _ in p50], ":", color="grey", label="offered")
    right.set(xlabel="offered claims/s", ylabel="claims/s", title="P4 throughput against load")
    right.legend()
    figure.tight_layout()
    figure.savefig(folder / "p4_latency_throughput.png", dpi=100)
    plt.close(figure)
    return "p4_latency_throughput.png"


def plot_p7(rows: list[dict[str, Any]], folder: Path) -> str | None:
    costs = [r for r in rows if r["bench"] == "P7"]
    if not costs:
        return None
    databases = sorted({r["database"] for r in costs})
    figure, axes = plt.subplots(1, len(databases), figsize=(5.5 * len(databases), 4), squeeze=False)
    for axis, database in zip(axes[0], databases, strict=True):
        series: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for r in costs:
            if r["database"] == database:
                series[r["metric"]].append((r.get("claims", r.get("events")), r["value"]))
        for name, points in sorted(series.items()):
            points.sort()
            axis.plot([p for p, _ in points], [v for _, v in points], "o-", label=name)
        axis.set_xscale("log")
        axis.set(
            xlabel="claims in the store",
            ylabel="ms per request",
            title=f"P7 cost against store size ({database})",
        )
        axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(folder / "p7_cost_by_size.png", dpi=100)
    plt.close(figure)
    return "p7_cost_by_size.png"


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| bench | figure | value | baseline (same run) | ratio | details |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        baseline = r.get("baseline")
        ratio = f"{r['value'] / baseline:.2f}" if baseline else ""
        details = ", ".join(
            f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
            for k, v in r.items()
            if k not in ("bench", "metric", "value", "unit", "baseline")
        )
        base = f"{baseline:,.1f} {r['unit']}" if baseline else "—"
        lines.append(
            f"| {r['bench']} | {r['metric']} | {r['value']:,.1f} {r['unit']} | {base} "
            f"| {ratio} | {details} |"
        )
    return lines


def main(folder: Path) -> None:
    results = folder / "results.jsonl"
    rows = (
        [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    )
    out = [
        "# Benchmark report",
        "",
        f"Run finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        "",
        "The machine is shared (other engineers' tests and benchmarks run on it at the same time):",
        "absolute figures drift with its load, so each figure is read against its same-run",
        "baseline where it has one.",
        "",
        *table(rows),
        "",
    ]
    for title, name in (
        ("P4: submission to alert visible, against offered load", plot_p4(rows, folder)),
        ("P7: cost per request against store size", plot_p7(rows, folder)),
    ):
        if name:
            out += [f"## {title}", "", f"![{title}]({name})", ""]
    for log in sorted(folder.glob("*.txt")):
        out += [f"## Output of bench/{log.stem}.py", "", "```", log.read_text().rstrip(), "```", ""]
    (folder / "report.md").write_text("\n".join(out))
    print(f"report: {folder / 'report.md'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "var/bench"))
