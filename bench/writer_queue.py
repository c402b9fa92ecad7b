"""SQLite writers under contention: how long a write transaction waits for the write lock,
through the ledger's writer queue (shared/sql.py: first come, first served within a process,
an `flock` across processes, a process letting go holding its own next writer back while
another waits) against SQLite's own busy handler alone (the same engine settings without the
queue: each writer retries `BEGIN IMMEDIATE` as the handler wakes it), in the same run.

Setup (not timed): a fresh SQLite file per measurement with one small table. Timed: `--processes`
processes of `--threads` threads each, every thread running `--transactions` write
transactions of about `--hold-ms` of work each (a busy loop standing for a command's Python
between BEGIN IMMEDIATE and COMMIT, then one INSERT). Each transaction's wait is from asking
for the lock to holding it. Printed: transactions per second and the waits' p50, p90, p99 and
maximum, for each way of queueing; the ratios are the queue's over the busy handler's.

    .venv/bin/python bench/writer_queue.py
    .venv/bin/python bench/writer_queue.py --processes 3 --threads 4 --transactions 100
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _results import record  # noqa: E402


def _writer_process(url: str, queued: bool, args: argparse.Namespace, out: Any) -> None:
    from sqlalchemy import text

    from shared.sql import begin_write, make_engine

    # Without the queue: the project's engine settings (WAL, busy timeout, BEGIN IMMEDIATE
    # for writers) with a plain sqlite3 connection, which the queue leaves alone, so SQLite's
    # busy handler decides who writes next.
    extra = {} if queued else {"connect_args": {"factory": sqlite3.Connection}}
    engine = make_engine(url, **extra)
    waits: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        mine = []
        for number in range(args.transactions):
            asked = time.perf_counter()
            with begin_write(engine) as connection:
                mine.append(time.perf_counter() - asked)
                until = time.perf_counter() + args.hold_ms / 1000
                while time.perf_counter() < until:
                    pass
                connection.execute(text("INSERT INTO work (n) VALUES (:n)"), {"n": number})
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    out.put(waits)


def measure(queued: bool, folder: Path, args: argparse.Namespace) -> tuple[float, list[float]]:
    path = folder / f"{'queued' if queued else 'busy-handler'}-{time.monotonic_ns()}.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("CREATE TABLE work (id INTEGER PRIMARY KEY, n INTEGER)")
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    processes = [
        context.Process(target=_writer_process, args=(f"sqlite:///{path}", queued, args, out))
        for _ in range(args.processes)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    waits = sorted(w for _ in processes for w in out.get())
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    expected = args.processes * args.threads * args.transactions
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT count(*) FROM work").fetchone()[0]
    if stored != expected or len(waits) != expected:
        raise SystemExit(f"expected {expected} transactions, stored {stored}")
    return expected / elapsed, waits


def quantile(values: list[float], q: float) -> float:
    return 1000 * values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--transactions", type=int, default=100, help="per thread")
    parser.add_argument("--hold-ms", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(
        f"writer queue: {args.processes} processes x {args.threads} threads x "
        f"{args.transactions} write transactions of ~{args.hold_ms:g} ms each, "
        f"{args.rounds} rounds, alternating which goes first"
    )
    rows: dict[bool, list[tuple[float, list[float]]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="bench-writer-queue-") as tmp:
        for round_ in range(args.rounds):
            for queued in (True, False) if round_ % 2 == 0 else (False, True):
                rate, waits = measure(queued, Path(tmp), args)
                rows[queued].append((rate, waits))
                name = "queue" if queued else "busy handler"
                print(
                    f"  round {round_ + 1} {name:12} {rate:6,.0f} tx/s  wait p50 "
                    f"{quantile(waits, 0.5):6.1f}  p90 {quantile(waits, 0.9):6.1f}  p99 "
                    f"{quantile(waits, 0.99):6.1f}  max {1000 * waits[-1]:6.1f} ms"
                )
    figures = {}
    for queued, runs in rows.items():
        waits = sorted(w for _, ws in runs for w in ws)
        rate = sum(r for r, _ in runs) / len(runs)
        figures[queued] = (rate, quantile(waits, 0.5), quantile(waits, 0.99), 1000 * waits[-1])
    (q_rate, q50, q99, qmax), (b_rate, b50, b99, bmax) = figures[True], figures[False]
    print(f"{'':14}{'tx/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    print(f"{'queue':14}{q_rate:8,.0f}{q50:9.1f}{q99:9.1f}{qmax:9.1f}")
    print(f"{'busy handler':14}{b_rate:8,.0f}{b50:9.1f}{b99:9.1f}{bmax:9.1f}")
    print(f"ratio queue/busy handler: throughput {q_rate / b_rate:.2f}, p99 wait {q99 / b99:.2f}")
    record("writer queue", "throughput", q_rate, "tx/s", baseline=b_rate)
    record("writer queue", "p99 wait", q99, "ms", baseline=b99)


if __name__ == "__main__":
    main()
