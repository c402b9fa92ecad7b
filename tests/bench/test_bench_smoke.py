"""Every benchmark in bench/ runs at a tiny size and exits 0, so none rots between `make bench`
runs; the report is then written from what they recorded. Not a measurement: no figure is
checked, only that each script runs end to end against the real broker and databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from tests.support.kafka import kafka_bootstrap

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "alert_latency": ["--rates", "4", "--seconds", "1"],
    "claim_submissions": ["--seconds", "1", "--connections", "1", "--workers", "1"],
    "notifier_consume": ["--events", "300"],
    "notifier_rebuild": ["--events", "300"],
    "read_costs": ["--sizes", "60", "120", "--tenants", "3", "--repeat", "1"],
    "relay_throughput": ["--events", "200", "--rounds", "1", "--batch-size", "50"],
    "statements": ["--orgs", "2", "--months", "1"],
    "store_appends": ["--events", "40", "--rounds", "1"],
    "store_concurrency": ["--writers", "1", "2", "--events", "40", "--rounds", "1"],
    "writer_queue": ["--processes", "2", "--threads", "2", "--transactions", "5", "--rounds", "1"],
}
TAKES_POSTGRES = {
    "claim_submissions": "--database-url",
    "store_appends": "--database-url",
    "store_concurrency": "--database-url",
}
__all__ = ["kafka_bootstrap"]


def test_every_benchmark_has_a_tiny_size() -> None:
    scripts = {p.stem for p in (ROOT / "bench").glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(TINY), "give each bench/ script a tiny size in TINY"


def run_tiny(name: str, server: str, bootstrap: str, folder: Path) -> str | None:
    """Run one benchmark at its tiny size; what went wrong, or None."""
    folder.mkdir()
    results = folder / "results.jsonl"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "BENCH_RESULTS": str(results),
        "BRIDGES_BENCH_POSTGRES_URL": server,
    }
    args = list(TINY[name])
    if name in TAKES_POSTGRES:
        args += [TAKES_POSTGRES[name], server]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    if done.returncode != 0:
        return f"{name} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    if not done.stdout.strip():
        return f"{name} printed no figure"
    if results.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "_report.py"), str(folder)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        report = (folder / "report.md").read_text()
        for line in results.read_text().splitlines():
            if json.loads(line)["metric"] not in report:
                return f"{name}: {line} is not in the report"
    return None


def test_every_benchmark_runs_at_a_tiny_size(
    kafka_bootstrap: str, postgres_admin_engine: Engine, tmp_path: Path
) -> None:
    # All at once: they mostly wait on the broker and the databases, so together they take
    # about as long as the slowest.
    server = postgres_admin_engine.url.render_as_string(hide_password=False)
    with ThreadPoolExecutor(max_workers=len(TINY)) as pool:
        outcomes = list(
            pool.map(lambda n: run_tiny(n, server, kafka_bootstrap, tmp_path / n), sorted(TINY))
        )
    failures = [outcome for outcome in outcomes if outcome]
    assert not failures, "\n\n".join(failures)
