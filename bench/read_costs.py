"""P7 (reads): balances, a `GET /claims` page and `GET /claims/{id}` as the store grows.

For each size, a fresh SQLite database (or PostgreSQL with --postgres URL) holds `--tenants`
partnerships (a payer, a VCSE payee, an agreement) and that many claims round-robin over them,
written through the `Ledger` application service (not timed). Then, timed: the median of
`--repeat` calls of `Ledger.balances`, `Ledger.list_claims` (first page of 50) and
`Ledger.get_claim`, each for one VCSE member of the first partnership, with the number of SQL
statements each issued, and each cost's ratio to the smallest size's (goal: <= 1.5x).

    .venv/bin/python bench/read_costs.py                          # 1 k and 10 k claims
    .venv/bin/python bench/read_costs.py --sizes 1000 10000 100000
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

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
    results = {
        "balances": measure(ledger, lambda: ledger.balances(first.vcse, first.id, None), repeat),
        "GET /claims": measure(
            ledger, lambda: ledger.list_claims(first.vcse, {"limit": 50}), repeat
        ),
        "GET /claims/{id}": measure(ledger, lambda: ledger.get_claim(first.vcse, claim_id), repeat),
    }
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL (reset per size)")
    args = parser.parse_args()
    baseline: dict[str, float] = {}
    print(f"{'claims':>8} {'in partnership':>14}  {'read':<18} {'ms':>9} {'stmts':>6} {'ratio':>6}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if args.postgres:
                reset_postgres(args.postgres)
                url = args.postgres
            else:
                url = f"sqlite:///{folder / 'ledger.db'}"
            results = run(url, folder, size, args.tenants, args.repeat)
        for name, (seconds, statements) in results.items():
            baseline.setdefault(name, seconds)
            print(
                f"{size:>8} {size // args.tenants:>14}  {name:<18} {seconds * 1000:>9.2f} "
                f"{statements:>6} {seconds / baseline[name]:>5.2f}x"
            )


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


if __name__ == "__main__":
    main()
