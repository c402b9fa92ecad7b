"""P2c: write throughput with 1, 4 and 16 concurrent writers on PostgreSQL, the ledger's store
against the `eventsourcing` library (PyPI) on the same server, in the same run.

Each writer is a thread with its own connection (a pool as large as the writers), appending
ClaimSubmitted events (the same ~1 KB JSON as P2, bench/store_appends.py), one event per
transaction, each transaction to a new stream of its own: commands on different claims.
Ours goes through `EventStore.unit_of_work()` with the narrow locks a claim command takes
(`UnitOfWork.lock("claim:<id>")`: the writers' lock shared, the claim's exclusive), so writers
on different claims commit concurrently while the feed stays gap-free. eventsourcing's
PostgreSQL recorder takes `LOCK TABLE ... IN EXCLUSIVE MODE` in every transaction (its way of
keeping its notification log gap-free), so its writers queue.

Setup (not timed): a throwaway database per measurement, created on the server at
`--database-url` (default `deploy/local/postgres.sh url`) and dropped afterwards. Timed: from
the moment every writer is ready (a barrier) to the last commit; `--events` in all, split
evenly. Rounds alternate which library goes first; the best round counts. Afterwards every
event is checked to be stored once. The server commits with its own settings
(synchronous_commit on: a commit waits for its WAL flush, which concurrent commits can share).
On a machine with few cores the client threads and the server share the CPUs: read the
ratios of the same run, not the absolute figures.

    .venv/bin/python bench/store_concurrency.py
    .venv/bin/python bench/store_concurrency.py --writers 1 4 16 --events 1600 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _postgres import ensure_postgres, postgres_url, throwaway_database  # noqa: E402
from _results import record  # noqa: E402
from eventsourcing.persistence import (  # noqa: E402
    ApplicationRecorder,
    InfrastructureFactory,
    StoredEvent,
)
from eventsourcing.utils import Environment  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402
from store_appends import (  # noqa: E402
    ES_TOPIC,
    EVENT_TYPE,
    claim_data,
    eventsourcing_postgres_env,
)

from services.ledger.store import EventStore, make_engine  # noqa: E402
from services.ledger.store.migrate import upgrade  # noqa: E402
from services.ledger.store.tables import events as events_table  # noqa: E402
from shared.events.envelope import NewEvent  # noqa: E402


def run_writers(writers: int, per_writer: int, append: Callable[[uuid.UUID], None]) -> float:
    """Seconds for `writers` threads to make `per_writer` appends each, from a common start."""
    ready = threading.Barrier(writers + 1)
    streams = [[uuid.uuid4() for _ in range(per_writer)] for _ in range(writers)]

    def writer(mine: list[uuid.UUID]) -> None:
        ready.wait()
        for stream in mine:
            append(stream)

    with ThreadPoolExecutor(writers) as pool:
        futures = [pool.submit(writer, mine) for mine in streams]
        ready.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        return time.perf_counter() - started


def run_ours(url: str, writers: int, per_writer: int, data: dict[str, object]) -> float:
    upgrade(url)
    engine = make_engine(url, pool_size=writers + 1)
    store = EventStore(engine)
    partition_key, actor = str(data["partnership_id"]), str(data["submitted_by"])

    def append(stream: uuid.UUID) -> None:
        with store.unit_of_work() as uow:
            uow.lock(f"claim:{stream}")
            uow.append(
                f"claim-{stream}",
                0,
                [NewEvent(type=EVENT_TYPE, data=data)],
                partition_key=partition_key,
                actor=actor,
            )

    elapsed = run_writers(writers, per_writer, append)
    with engine.connect() as connection:
        stored = connection.execute(
            select(func.count(func.distinct(events_table.c.event_id)))
        ).scalar_one()
    feed = len(store.read_feed(0, writers * per_writer + 1))
    engine.dispose()
    check("ledger store", writers * per_writer, stored, feed)
    return elapsed


def run_eventsourcing(url: URL, writers: int, per_writer: int, data: dict[str, object]) -> float:
    env = {
        **eventsourcing_postgres_env(url),
        "POSTGRES_POOL_SIZE": str(writers + 1),
        "POSTGRES_MAX_OVERFLOW": "0",
    }
    factory = InfrastructureFactory.construct(Environment(env=env))
    recorder: ApplicationRecorder = factory.application_recorder()  # creates its table
    state = json.dumps(data).encode()

    def append(stream: uuid.UUID) -> None:
        recorder.insert_events(
            [StoredEvent(originator_id=stream, originator_version=1, topic=ES_TOPIC, state=state)]
        )

    elapsed = run_writers(writers, per_writer, append)
    total = writers * per_writer
    notifications = recorder.select_notifications(start=None, limit=total + 1)
    distinct = len({n.originator_id for n in notifications})
    factory.close()
    check("eventsourcing", total, distinct, len(notifications))
    return elapsed


def check(name: str, expected: int, stored: int, fed: int) -> None:
    if stored != expected or fed != expected:
        raise SystemExit(f"{name}: expected {expected} events, stored {stored}, in the feed {fed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--events", type=int, default=1600, help="events per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server (default: postgres.sh url)"
    )
    args = parser.parse_args()
    server = make_url(postgres_url(args.database_url))
    ensure_postgres(server, start=args.database_url is None)
    data = claim_data(str(uuid.uuid4()))
    print(
        f"store concurrency (P2c): {args.events} events of {len(json.dumps(data))} bytes of "
        f"JSON per measurement, one per transaction, PostgreSQL, best of {args.rounds} rounds"
    )
    rows = []
    for writers in args.writers:
        per_writer = max(1, args.events // writers)
        total = per_writer * writers
        ours_times, theirs_times = [], []
        for round_ in range(1, args.rounds + 1):

            def ours(writers: int = writers, per_writer: int = per_writer) -> float:
                with throwaway_database(server, "bench_writers") as db:
                    return run_ours(
                        db.render_as_string(hide_password=False), writers, per_writer, data
                    )

            def theirs(writers: int = writers, per_writer: int = per_writer) -> float:
                with throwaway_database(server, "bench_writers") as db:
                    return run_eventsourcing(db, writers, per_writer, data)

            order = [ours, theirs] if round_ % 2 else [theirs, ours]
            results = {fn: fn() for fn in order}
            ours_times.append(results[ours])
            theirs_times.append(results[theirs])
            print(
                f"  {writers:>2} writers round {round_}: ours {total / results[ours]:8,.0f} "
                f"events/s, eventsourcing {total / results[theirs]:8,.0f} events/s"
            )
        rows.append((writers, total / min(ours_times), total / min(theirs_times)))
    print(f"{'writers':>7} {'ours':>14} {'eventsourcing':>16}  ratio ours/es")
    for writers, ours_rate, theirs_rate in rows:
        print(
            f"{writers:>7} {ours_rate:>9,.0f} ev/s {theirs_rate:>11,.0f} ev/s"
            f"  {ours_rate / theirs_rate:.2f}"
        )
        record(
            "P2c",
            f"appends, {writers} writers",
            ours_rate,
            "events/s",
            baseline=theirs_rate,
            database="postgresql",
            writers=writers,
        )
    if len(rows) > 1:
        (w0, ours0, theirs0), (w1, ours1, theirs1) = rows[0], rows[-1]
        print(
            f"scaling {w0} -> {w1} writers: ours x{ours1 / ours0:.2f}, "
            f"eventsourcing x{theirs1 / theirs0:.2f}"
        )


if __name__ == "__main__":
    main()
