"""P7: the cost per request of `POST /claims`, `GET /claims`, `GET /claims/{id}`, balances and
`GET /events` as the store grows, on SQLite and PostgreSQL.

For each size, one SQLite store is built (not timed) with `--tenants` partnerships (a payer, a
VCSE payee, an agreement) and that many claims round-robin over them, written through the
domain and the ledger's own append path (sealing, the store, the projections: the log and the
views are what the commands write) in big transactions; in each partnership the newest
`--open` claims are in flight and every older one settled (`fill`). PostgreSQL gets a copy of
its rows (`copy_store`), so its build does not pay PostgreSQL's round trip per statement.
Then, timed with every size's store open at once and the sizes interleaved (rounds of one call
per size, in a random order, so the machine's load weighs on all alike): the median of
`--repeat` calls of `Ledger.submit_claim` (in its own unit of work, as a request),
`Ledger.list_claims` (first page of 50), `Ledger.get_claim`, `Ledger.balances`, each for one
VCSE member of the first partnership, and the store's `read_feed` for the last 100 events
(`GET /events`), with the SQL statements each issued, and each cost's ratio to the smallest
size's, the same-run baseline (goal: flat, <= 1.5x). `--keep DIR` keeps the built stores and
`--kept DIR` measures them again without building.

    .venv/bin/python bench/read_costs.py                          # 1 k, 10 k and 100 k claims
    .venv/bin/python bench/read_costs.py --sizes 1000 10000 --databases sqlite
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os  # noqa: E402

from _postgres import ensure_postgres, postgres_url, throwaway_database  # noqa: E402
from _results import record  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from services.ledger.access import Principal  # noqa: E402
from services.ledger.api.schemas import ClaimIn  # noqa: E402
from services.ledger.application import Ledger  # noqa: E402
from services.ledger.domain.claim import Claim, submit_claim  # noqa: E402
from services.ledger.domain.payment import record_payment  # noqa: E402
from services.ledger.store import EventStore, upgrade  # noqa: E402
from services.ledger.store.metadata import metadata  # noqa: E402
from services.ledger.store.tables import events as event_rows  # noqa: E402
from shared.settings import LedgerSettings  # noqa: E402
from shared.sql import make_engine  # noqa: E402
from tests.support.claims import TODAY, Partnership, build_partnerships, claim_body  # noqa: E402
from tests.support.clock import MovableClock  # noqa: E402

BATCH = 2000  # claims per unit of work while filling (not timed)
OPEN = 20  # claims in flight per partnership (the newest); every older one is settled
HISTORY_DAYS = 300  # the partnership's claims are dated over this many days before TODAY
DECIDER = str(uuid.UUID(int=1))  # the payer's approver and finance officer in the events
_OPEN_CYCLE = ("submitted", "queried", "approved", "part_paid")


def fill(ledger: Ledger, partnerships: list[Partnership], total: int, open_: int) -> None:
    """`total` claims round-robin over the partnerships, through the domain and the ledger's
    own append path (`Ledger._append`: sealing, the store and the projections), so the log and
    the views are what the commands would have written, in big transactions and without the
    per-request reads. In each partnership the newest `open_` claims are in flight (submitted,
    queried, approved, part paid in turn) and every older one settled (paid in full, one in
    ten rejected or withdrawn), dated over `HISTORY_DAYS` days: a realistic partnership's
    claims in flight do not grow with its history."""
    counts = [
        total // len(partnerships) + (n < total % len(partnerships))
        for n in range(len(partnerships))
    ]
    with ledger.reading() as uow:
        agreements = [ledger.load_agreement(uow, p.agreement_id) for p in partnerships]
    bodies: dict[date, Any] = {}
    done = 0
    work = [
        (partnership, agreement, age, count)
        for age in range(max(counts) - 1, -1, -1)  # oldest first, as they were recorded
        for partnership, agreement, count in zip(partnerships, agreements, counts, strict=True)
        if age < count
    ]
    for start in range(0, len(work), BATCH):
        with ledger.store.unit_of_work() as uow:
            for partnership, agreement, newest, count in work[start : start + BATCH]:
                assert agreement is not None
                _one_claim(ledger, uow, partnership, agreement, newest, count, open_, bodies)
                done += 1


def _one_claim(
    ledger: Ledger,
    uow: Any,
    partnership: Partnership,
    agreement: Any,
    newest: int,  # 0 for the partnership's newest claim
    count: int,
    open_: int,
    bodies: dict[date, Any],
) -> None:
    submitted_on = TODAY - timedelta(days=newest * HISTORY_DAYS // max(count, 1))
    worked_on = submitted_on - timedelta(days=1)
    if worked_on not in bodies:
        bodies[worked_on] = ClaimIn().load(claim_body(partnership.agreement_id, worked_on))
    data = bodies[worked_on]
    claim_id = str(uuid.uuid4())
    submitted = submit_claim(
        claim_id,
        agreement,
        data["lines"],
        data["expenses"],
        submitted_by=partnership.vcse.person_id,
        today=submitted_on,
        receipts={},
    )
    claim = Claim.replay([submitted])
    events: list[Any] = [submitted]
    decided_on = min(TODAY, submitted_on + timedelta(days=2))
    state = _OPEN_CYCLE[newest % len(_OPEN_CYCLE)] if newest < open_ else "settled"
    pay: int | None = None
    if state == "queried":
        events.append(claim.query("Which session?", by=DECIDER, today=submitted_on))
    elif state == "settled" and newest % 20 == open_ % 20:
        events.append(claim.reject("Not in scope", by=DECIDER, today=decided_on))
    elif state == "settled" and newest % 20 == (open_ + 1) % 20:
        events.append(claim.withdraw(by=partnership.vcse.person_id, today=submitted_on))
    elif state in ("approved", "part_paid", "settled"):
        events.append(claim.approve(by=DECIDER, today=decided_on))
        claim = claim.apply(events[-1])
        if state != "approved":
            pay = claim.approved_pence // 2 if state == "part_paid" else claim.approved_pence
    ledger._append(uow, partnership.vcse, f"claim-{claim_id}", 0, events, agreement.partnership_id)
    if pay is not None:
        paid_on = min(TODAY, submitted_on + timedelta(days=20))
        payment = record_payment(
            str(uuid.uuid4()),
            payer_id=agreement.payer_id,
            payee_id=agreement.payee_id,
            paid_on=paid_on,
            reference=f"BACS {claim_id[:8]}",
            allocations=[{"claim_id": claim_id, "amount_pence": pay}],
            claims={claim_id: claim},
            recorded_by=DECIDER,
            today=paid_on,
        )
        ledger._append(
            uow,
            partnership.vcse,
            f"payment-{payment.payment_id}",
            0,
            [payment],
            agreement.partnership_id,
        )


def statements_of(ledger: Ledger, call: Callable[[], Any]) -> int:
    """The SQL statements one call issues (after a warming call)."""
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
    return statements


def interleaved(calls: Sequence[Callable[[], Any]], repeat: int) -> list[float]:
    """The median time of each call, timed in rounds of one call each in a random order (so
    a change of the machine's load during the run weighs on every size alike)."""
    times: list[list[float]] = [[] for _ in calls]
    order = list(range(len(calls)))
    shuffle = random.Random(7).shuffle
    for _ in range(repeat):
        shuffle(order)  # no size always first in its round
        for number in order:
            call = calls[number]
            started = time.perf_counter()
            call()
            times[number].append(time.perf_counter() - started)
    return [statistics.median(each) for each in times]


def build(path: Path, size: int, tenants: int, open_: int) -> list[Partnership]:
    """A SQLite store at `path` with `tenants` partnerships and `size` claims (not timed)."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    ledger = Ledger(
        EventStore(engine),
        settings=LedgerSettings(var_dir=str(path.parent)),
        clock=MovableClock(TODAY),
    )
    partnerships = build_partnerships(ledger, tenants)
    started = time.perf_counter()
    fill(ledger, partnerships, size, open_)
    events = ledger.store.last_position()
    print(
        f"  built {size} claims ({events} events) in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    engine.dispose()
    return partnerships


def copy_store(source_url: str, target_url: str) -> None:
    """Every row of the built store into a freshly migrated database, table by table, as
    stored (so a PostgreSQL store holds what the ledger built, without PostgreSQL's round
    trips per statement slowing the build); identity sequences moved past the copied ids,
    and the tables analysed."""
    upgrade(target_url)
    source, target = make_engine(source_url), make_engine(target_url)
    with source.connect() as reading, target.begin() as writing:
        for table in reversed(metadata.sorted_tables):
            writing.execute(table.delete())
        for table in metadata.sorted_tables:
            result = reading.execute(select(table)).mappings()
            # SQLite has no transaction ids (0): the copied events take the copy's own, as
            # one transaction's events, in position order.
            local = {"transaction_id"} if table is event_rows else set()
            while chunk := result.fetchmany(5000):
                rows = [{k: v for k, v in row.items() if k not in local} for row in chunk]
                writing.execute(table.insert(), rows)
            for column in table.columns:
                if column.identity is not None and target.dialect.name == "postgresql":
                    writing.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
                        f" GREATEST((SELECT MAX({column.name}) FROM {table.name}), 1))"
                    )
    if target.dialect.name == "postgresql":
        # Statistics, as autovacuum would gather them on a store that grew to this size.
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    source.dispose()
    target.dispose()


def requests(ledger: Ledger, partnerships: list[Partnership]) -> dict[str, Callable[[], Any]]:
    """The requests timed, as one VCSE member of the first partnership makes them."""
    first = partnerships[0]
    page = ledger.list_claims(first.vcse, {"limit": 50})
    claim_id = page["items"][-1]["id"]
    start = feed_position_back(ledger, 100)

    def submit() -> None:
        with ledger.store.unit_of_work() as uow:
            ledger.submit_claim(uow, first.vcse, ClaimIn().load(claim_body(first.agreement_id)))

    return {
        "POST /claims": submit,
        "balances": lambda: ledger.balances(first.vcse, first.id, None),
        "GET /claims": lambda: ledger.list_claims(first.vcse, {"limit": 50}),
        "GET /claims/{id}": lambda: ledger.get_claim(first.vcse, claim_id),
        "GET /events": lambda: ledger.store.read_feed(start, 100),
    }


def feed_position_back(ledger: Ledger, count: int) -> int:
    """The stored position `count` events before the feed's end, in feed order (0 if the feed
    is shorter): `read_feed` after it reads the last `count` events. Not `last_position() -
    count`: on PostgreSQL the feed is not in position order and positions have gaps, so that
    need not be a stored position (`UnknownPosition`) nor `count` events back."""
    query = (
        select(event_rows.c.global_position)
        .order_by(event_rows.c.transaction_id.desc(), event_rows.c.global_position.desc())
        .offset(count)
        .limit(1)
    )
    with ledger.store.engine.connect() as connection:
        position = connection.execute(query).scalar_one_or_none()
    return 0 if position is None else int(position)


def measure_all(
    ledgers: Sequence[Ledger], partnerships: Sequence[list[Partnership]], repeat: int
) -> list[dict[str, tuple[float, int]]]:
    """Per store (one per size): each request's median time and statements, interleaved."""
    calls = [requests(ledger, built) for ledger, built in zip(ledgers, partnerships, strict=True)]
    results: list[dict[str, tuple[float, int]]] = [{} for _ in ledgers]
    for name in calls[0]:
        if name == "GET /claims":
            # Every store's first page full (the smallest sizes have 20 claims in a
            # partnership): a page of 20 against one of 50 would measure the page.
            for ledger, built, each in zip(ledgers, partnerships, calls, strict=True):
                while len(ledger.list_claims(built[0].vcse, {"limit": 50})["items"]) < 50:
                    each["POST /claims"]()
        counts = [
            statements_of(ledger, each[name]) for ledger, each in zip(ledgers, calls, strict=True)
        ]
        medians = interleaved([each[name] for each in calls], repeat)
        for result, median, count in zip(results, medians, counts, strict=True):
            result[name] = (median, count)
    return results


def ledger_on(url: str, folder: Path) -> Ledger:
    folder.mkdir(parents=True, exist_ok=True)
    return Ledger(
        EventStore(make_engine(url)),
        settings=LedgerSettings(var_dir=str(folder)),
        clock=MovableClock(TODAY),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--open", type=int, default=OPEN, help="claims in flight per partnership (the newest)"
    )
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BRIDGES_BENCH_POSTGRES_URL"),
        help="a PostgreSQL server URL (a throwaway database is made on it per size); "
        "default BRIDGES_BENCH_POSTGRES_URL, else the project's local server",
    )
    parser.add_argument(
        "--kept",
        type=Path,
        help="measure the stores a former --keep left in this folder instead of building",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="a folder to keep each size's built SQLite store in (<size>.db, <size>.json)",
    )
    args = parser.parse_args()
    print(
        f"{'database':<10} {'claims':>8} {'in partnership':>14}  {'request':<16} "
        f"{'ms':>9} {'stmts':>6} {'ratio':>6}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        built: list[tuple[Path, list[Partnership]]] = []
        for size in args.sizes:
            if args.kept:
                path = args.kept / f"{size}.db"
                loaded = json.loads(path.with_suffix(".json").read_text())
                built.append((path, [_partnership(p) for p in loaded]))
                continue
            path = folder / f"built-{size}.db"
            built.append((path, build(path, size, args.tenants, args.open)))
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, args.keep / f"{size}.db")
                (args.keep / f"{size}.json").write_text(
                    json.dumps([dataclasses.asdict(p) for p in built[-1][1]], default=sorted)
                )
        for database in args.databases:
            started = time.perf_counter()
            ledgers = []
            for number, (path, _) in enumerate(built):
                here = folder / database / str(number)
                if database == "postgresql":
                    server = make_url(postgres_url(args.postgres))
                    ensure_postgres(server, start=args.postgres is None)
                    url = stack.enter_context(throwaway_database(server, "bench_costs"))
                    target = url.render_as_string(hide_password=False)
                    copy_store(f"sqlite:///{path}", target)
                else:
                    here.mkdir(parents=True)
                    shutil.copyfile(path, here / "ledger.db")
                    target = f"sqlite:///{here / 'ledger.db'}"
                ledgers.append(ledger_on(target, here))
            print(
                f"  {database}: stores ready in {time.perf_counter() - started:.0f} s", flush=True
            )
            results = measure_all(ledgers, [p for _, p in built], args.repeat)
            baseline: dict[str, float] = {}
            for size, result in zip(args.sizes, results, strict=True):
                report(database, size, args, result, baseline)
            for ledger in ledgers:
                ledger.store.engine.dispose()


def _partnership(data: dict[str, Any]) -> Partnership:
    vcse = data["vcse"]
    return Partnership(
        data["id"],
        data["agreement_id"],
        Principal(
            vcse["person_id"],
            vcse["organisation_id"],
            vcse["organisation_kind"],
            frozenset(vcse["roles"]),
        ),
    )


def report(
    database: str,
    size: int,
    args: argparse.Namespace,
    results: dict[str, tuple[float, int]],
    baseline: dict[str, float],
) -> None:
    for name, (seconds, statements) in results.items():
        baseline.setdefault(name, seconds)
        ratio = seconds / baseline[name]
        print(
            f"{database:<10} {size:>8} {size // args.tenants:>14}  {name:<16} "
            f"{seconds * 1000:>9.2f} {statements:>6} {ratio:>5.2f}x",
            flush=True,
        )
        record(
            "P7",
            name,
            seconds * 1000,
            "ms",
            baseline=baseline[name] * 1000,
            database=database,
            claims=size,
            open_per_partnership=args.open,
            statements=statements,
        )


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


if __name__ == "__main__":
    main()
