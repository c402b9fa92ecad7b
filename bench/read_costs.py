"""P7: the cost per request of `POST /claims`, `GET /claims`, `GET /claims/{id}`, balances and
`GET /events` as the store grows, on SQLite and PostgreSQL.

For each size, a fresh database holds `--tenants` partnerships (a payer, a VCSE payee, an
agreement) and that many events: claims submitted round-robin over them (one event each)
through the `Ledger` application service, 500 to a transaction (not timed). Then, timed: the
median of `--repeat` calls of `Ledger.submit_claim` (in its own unit of work, as a request),
`Ledger.list_claims` (first page of 50), `Ledger.get_claim`, `Ledger.balances`, each for one
VCSE member of the first partnership, and the store's `read_feed` for the last 100 events
(`GET /events`), with the SQL statements each issued, and each cost's ratio to the smallest
size's, the same-run baseline (goal: flat, <= 1.5x).

    .venv/bin/python bench/read_costs.py                          # 10 k and 100 k events
    .venv/bin/python bench/read_costs.py --sizes 10000 100000 1000000 --databases sqlite
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os  # noqa: E402

from _postgres import ensure_postgres, postgres_url, throwaway_database  # noqa: E402
from _results import record  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from services.ledger.api.schemas import ClaimIn  # noqa: E402
from services.ledger.application import Ledger  # noqa: E402
from services.ledger.store import EventStore, upgrade  # noqa: E402
from shared.settings import LedgerSettings  # noqa: E402
from shared.sql import make_engine  # noqa: E402
from tests.support.claims import TODAY, Partnership, build_partnerships, claim_body  # noqa: E402
from tests.support.clock import MovableClock  # noqa: E402

BATCH = 500  # claims per unit of work while filling (not timed)


def fill(ledger: Ledger, partnerships: list[Partnership], total: int) -> None:
    for start in range(0, total, BATCH):
        with ledger.store.unit_of_work() as uow:
            for n in range(start, min(total, start + BATCH)):
                partnership = partnerships[n % len(partnerships)]
                body = claim_body(partnership.agreement_id, TODAY - timedelta(days=n % 20))
                ledger.submit_claim(uow, partnership.vcse, ClaimIn().load(body))


def measure(ledger: Ledger, call: Callable[[], Any], repeat: int) -> tuple[float, int]:
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    call()  # warm
    event.listen(ledger.store.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(ledger.store.engine, "before_cursor_execute", count)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), statements


def run(
    url: str, folder: Path, size: int, tenants: int, repeat: int
) -> dict[str, tuple[float, int]]:
    upgrade(url)
    engine = make_engine(url)
    clock = MovableClock(TODAY)
    ledger = Ledger(EventStore(engine), settings=LedgerSettings(var_dir=str(folder)), clock=clock)
    partnerships = build_partnerships(ledger, tenants)
    fill(ledger, partnerships, size)
    first = partnerships[0]
    page = ledger.list_claims(first.vcse, {"limit": 50})
    claim_id = page["items"][-1]["id"]
    last = ledger.store.last_position()

    def submit() -> None:
        with ledger.store.unit_of_work() as uow:
            ledger.submit_claim(uow, first.vcse, ClaimIn().load(claim_body(first.agreement_id)))

    results = {
        "POST /claims": measure(ledger, submit, repeat),
        "balances": measure(ledger, lambda: ledger.balances(first.vcse, first.id, None), repeat),
        "GET /claims": measure(
            ledger, lambda: ledger.list_claims(first.vcse, {"limit": 50}), repeat
        ),
        "GET /claims/{id}": measure(ledger, lambda: ledger.get_claim(first.vcse, claim_id), repeat),
        "GET /events": measure(
            ledger, lambda: ledger.store.read_feed(max(0, last - 100), 100), repeat
        ),
    }
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BRIDGES_BENCH_POSTGRES_URL"),
        help="a PostgreSQL server URL (a throwaway database is made on it per size); "
        "default BRIDGES_BENCH_POSTGRES_URL, else the project's local server",
    )
    args = parser.parse_args()
    print(
        f"{'database':<10} {'events':>8} {'in partnership':>14}  {'request':<16} "
        f"{'ms':>9} {'stmts':>6} {'ratio':>6}"
    )
    for database in args.databases:
        baseline: dict[str, float] = {}
        for size in args.sizes:
            started = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                if database == "postgresql":
                    server = make_url(postgres_url(args.postgres))
                    ensure_postgres(server, start=args.postgres is None)
                    with throwaway_database(server, "bench_costs") as url:
                        results = run(
                            url.render_as_string(hide_password=False),
                            folder,
                            size,
                            args.tenants,
                            args.repeat,
                        )
                else:
                    url_ = f"sqlite:///{folder / 'ledger.db'}"
                    results = run(url_, folder, size, args.tenants, args.repeat)
            took = time.perf_counter() - started
            for name, (seconds, statements) in results.items():
                baseline.setdefault(name, seconds)
                ratio = seconds / baseline[name]
                print(
                    f"{database:<10} {size:>8} {size // args.tenants:>14}  {name:<16} "
                    f"{seconds * 1000:>9.2f} {statements:>6} {ratio:>5.2f}x"
                )
                record(
                    "P7",
                    name,
                    seconds * 1000,
                    "ms",
                    baseline=baseline[name] * 1000,
                    database=database,
                    events=size,
                    statements=statements,
                )
            print(f"{database:<10} {size:>8} (built and measured in {took:.0f} s)")


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


if __name__ == "__main__":
    main()
