"""P2: events appended per second through the ledger's store API (`EventStore.unit_of_work()`
and `UnitOfWork.append`), against the `eventsourcing` library (PyPI) appending the same events
through its application recorder, on SQLite files and on PostgreSQL, in the same run.

Setup (not timed): for every measurement a fresh database — a new SQLite file in a temporary
directory, or a throwaway PostgreSQL database created on the server at `--database-url` (default
`deploy/local/postgres.sh url`, started with `postgres.sh up` if it does not answer) and dropped
at the end. Ours is migrated with `services.ledger.store.migrate.upgrade`; eventsourcing's table
is created by its recorder, configured the documented way (PERSISTENCE_MODULE=eventsourcing.sqlite
with SQLITE_DBNAME, or eventsourcing.postgres with POSTGRES_DBNAME/HOST/PORT/USER/PASSWORD). Both
SQLite writers use WAL with synchronous=FULL; on PostgreSQL both commit with the server's settings.

The workload, the same for both: ClaimSubmitted events, the JSON of `shared.events.catalogue.
to_data` of the test catalogue's sample (tests/unit/test_catalogue.py SAMPLES) with real UUIDs and
a real description, about 1 KB each. `--events` events go to streams of `--transactions-per-stream`
transactions of N events each (N from `--per-transaction`), round-robin over the streams, one
stream per transaction: the first pass opens new streams (expected version 0), the later passes
append follow-on versions. One writer; each transaction is committed before the next begins.

Timed: the whole workload, including building the events from their data (our `NewEvent`, whose
data the store serialises; eventsourcing's `StoredEvent`, whose `state` is the same JSON encoded
here as its mapper would). Rounds alternate which library goes first; the best round counts.
Each run is checked afterwards (every event stored, once).

    .venv/bin/python bench/store_appends.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/store_appends.py --databases sqlite --events 1000 --rounds 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

from services.ledger.store import EventStore, make_engine  # noqa: E402
from services.ledger.store.migrate import upgrade  # noqa: E402
from services.ledger.store.tables import events as events_table  # noqa: E402
from shared.events.catalogue import to_data  # noqa: E402
from shared.events.envelope import NewEvent  # noqa: E402
from shared.events.types import ClaimLine, ClaimSubmitted  # noqa: E402
from tests.unit.test_catalogue import SAMPLES  # noqa: E402

EVENT_TYPE = "ClaimSubmitted"
PRAGMAS = ("journal_mode", "synchronous")
ES_TOPIC = "shared.events.types:ClaimSubmitted"  # eventsourcing names event classes by topic


@dataclasses.dataclass(frozen=True)
class Stream:
    uuid: uuid.UUID
    partition_key: str
    actor: str
    data: dict[str, Any]

    @property
    def stream_id(self) -> str:
        return f"claim-{self.uuid}"


@dataclasses.dataclass(frozen=True)
class Workload:
    """Transactions in order: (stream, expected version, events to append)."""

    transactions: list[tuple[Stream, int, int]]
    events: int
    per_transaction: int


def claim_data(claim_id: str) -> dict[str, Any]:
    """The catalogue sample's ClaimSubmitted, with real-looking ids and text, as stored JSON."""
    sample = next(e for e in SAMPLES if isinstance(e, ClaimSubmitted) and len(e.lines) > 1)
    workshop, call, *rest = sample.lines
    lines: tuple[ClaimLine, ...] = (
        dataclasses.replace(workshop, description="Co-design workshop, diabetes pathway"),
        dataclasses.replace(
            call, worker="Maria Lopez", description="Call with the ICB about the next workshop"
        ),
        *rest,
    )
    event = dataclasses.replace(
        sample,
        claim_id=claim_id,
        agreement_id="2f0c8b3e-6a57-4c1e-9a0d-7d3b1c5e9f42",
        partnership_id="8d6e2a14-3b9f-4f7c-b2e1-5c0a9d7e3f18",
        payer_id="c41a7e90-2d38-4b6f-8e15-9a0f3c7d2b64",
        payee_id="5b9d3f27-8c16-4e0a-a7d4-1f6e2c8b0a93",
        submitted_by="e7a2c5d8-0f43-4a9b-b6c1-3d8e5f2a7c09",
        lines=lines,
        expenses=tuple(
            dataclasses.replace(e, description="Bus fares, Northside to the ICB offices and back")
            for e in sample.expenses
        ),
    )
    kind, _, data = to_data(event)
    assert kind == EVENT_TYPE
    return data


def build_workload(events: int, per_transaction: int, transactions_per_stream: int) -> Workload:
    streams_needed = max(1, events // (per_transaction * transactions_per_stream))
    streams = []
    for _ in range(streams_needed):
        claim = uuid.uuid4()
        data = claim_data(str(claim))
        streams.append(Stream(claim, data["partnership_id"], data["submitted_by"], data))
    transactions = [
        (stream, n * per_transaction, per_transaction)
        for n in range(transactions_per_stream)
        for stream in streams
    ]
    return Workload(transactions, len(transactions) * per_transaction, per_transaction)


# ------------------------------------------------------------------------------ the two writers


def run_ours(url: str, workload: Workload) -> float:
    upgrade(url)
    engine = make_engine(url)
    store = EventStore(engine)
    started = time.perf_counter()
    for stream, expected, count in workload.transactions:
        with store.unit_of_work() as uow:
            uow.append(
                stream.stream_id,
                expected,
                [NewEvent(type=EVENT_TYPE, data=stream.data) for _ in range(count)],
                partition_key=stream.partition_key,
                actor=stream.actor,
            )
    elapsed = time.perf_counter() - started
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(events_table)).scalar_one()
        distinct = connection.execute(
            select(func.count(func.distinct(events_table.c.event_id)))
        ).scalar_one()
    engine.dispose()
    check("ledger store", workload.events, stored, distinct)
    return elapsed


def run_eventsourcing(env: dict[str, str], workload: Workload) -> float:
    factory = InfrastructureFactory.construct(Environment(env=env))
    recorder: ApplicationRecorder = factory.application_recorder()  # creates its table
    started = time.perf_counter()
    for stream, expected, count in workload.transactions:
        recorder.insert_events(
            [
                StoredEvent(
                    originator_id=stream.uuid,
                    originator_version=expected + n,
                    topic=ES_TOPIC,
                    state=json.dumps(stream.data).encode(),
                )
                for n in range(1, count + 1)
            ]
        )
    elapsed = time.perf_counter() - started
    notifications = recorder.select_notifications(start=None, limit=workload.events + 1)
    pairs = {(n.originator_id, n.originator_version) for n in notifications}
    factory.close()
    check("eventsourcing", workload.events, len(notifications), len(pairs))
    return elapsed


def sqlite_modes(tmp: Path) -> str:
    """journal_mode and synchronous as each library's connections have them (both should be
    wal and 2, FULL: a commit is on disk when it returns)."""
    engine = make_engine(f"sqlite:///{tmp / 'modes-ours.db'}")
    with engine.connect() as connection:
        ours = [connection.exec_driver_sql(f"PRAGMA {p}").scalar() for p in PRAGMAS]
    engine.dispose()
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp / "modes.db")}
    factory = InfrastructureFactory.construct(Environment(env=env))
    with factory.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
        theirs = []
        for pragma in PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
            theirs.append(cursor.fetchone()[0])
    factory.close()
    return (
        f"sqlite {' '.join(f'{p}={v}' for p, v in zip(PRAGMAS, ours, strict=True))} (ours), "
        f"{' '.join(f'{p}={v}' for p, v in zip(PRAGMAS, theirs, strict=True))} (eventsourcing)"
    )


def check(name: str, expected: int, stored: int, distinct: int) -> None:
    if stored != expected or distinct != expected:
        raise SystemExit(
            f"{name}: expected {expected} events, stored {stored} ({distinct} distinct)"
        )


# ------------------------------------------------------------------------------ databases


def eventsourcing_postgres_env(url: URL) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(url.database),
        "POSTGRES_HOST": str(url.host),
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": str(url.username),
        "POSTGRES_PASSWORD": str(url.password),
    }


def measure(
    kind: str, workload: Workload, pg_url: URL | None, tmp: Path, ours_first: bool
) -> tuple[float, float]:
    """(ours, eventsourcing) seconds for one round on a fresh database each."""

    def ours() -> float:
        if kind == "sqlite":
            return run_ours(f"sqlite:///{tmp / f'ours-{uuid.uuid4().hex[:8]}.db'}", workload)
        assert pg_url is not None
        with throwaway_database(pg_url, "bench_appends") as db:
            return run_ours(db.render_as_string(hide_password=False), workload)

    def theirs() -> float:
        if kind == "sqlite":
            path = tmp / f"es-{uuid.uuid4().hex[:8]}.db"
            env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
            return run_eventsourcing(env, workload)
        assert pg_url is not None
        with throwaway_database(pg_url, "bench_appends") as db:
            return run_eventsourcing(eventsourcing_postgres_env(db), workload)

    order: list[Callable[[], float]] = [ours, theirs] if ours_first else [theirs, ours]
    results = {fn: fn() for fn in order}
    return results[ours], results[theirs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=4000, help="events per measurement")
    parser.add_argument(
        "--per-transaction",
        default="1,10",
        help="events per transaction, comma-separated: one workload each (default 1,10)",
    )
    parser.add_argument("--transactions-per-stream", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server (default: postgres.sh url)"
    )
    args = parser.parse_args()

    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    shapes = [int(n) for n in args.per_transaction.split(",")]
    pg_url: URL | None = None
    if "postgresql" in kinds:
        pg_url = make_url(postgres_url(args.database_url))
        ensure_postgres(pg_url, start=args.database_url is None)
    size = len(json.dumps(claim_data(str(uuid.uuid4()))))
    print(
        f"store appends: {args.events} events of {size} bytes of JSON per measurement, "
        f"{args.transactions_per_stream} transactions per stream, best of {args.rounds} rounds"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-appends-") as tmp:
        if "sqlite" in kinds:
            print(f"  {sqlite_modes(Path(tmp))}")
        for kind in kinds:
            for per_tx in shapes:
                workload = build_workload(args.events, per_tx, args.transactions_per_stream)
                ours_times, theirs_times = [], []
                for round_ in range(1, args.rounds + 1):
                    ours_s, theirs_s = measure(kind, workload, pg_url, Path(tmp), round_ % 2 == 1)
                    ours_times.append(ours_s)
                    theirs_times.append(theirs_s)
                    print(
                        f"  {kind:10} {per_tx:>2}/tx round {round_}: "
                        f"ours {workload.events / ours_s:8,.0f} events/s, "
                        f"eventsourcing {workload.events / theirs_s:8,.0f} events/s"
                    )
                rows.append((kind, per_tx, workload, min(ours_times), min(theirs_times)))
    print(f"{'database':10} {'events/tx':>9} {'ours':>14} {'eventsourcing':>16}  ratio ours/es")
    for kind, per_tx, workload, ours_s, theirs_s in rows:
        ours_rate, theirs_rate = workload.events / ours_s, workload.events / theirs_s
        print(
            f"{kind:10} {per_tx:>9} {ours_rate:>9,.0f} ev/s {theirs_rate:>11,.0f} ev/s"
            f"  {ours_rate / theirs_rate:.2f}"
        )
        record(
            "P2",
            f"appends, {per_tx}/tx",
            ours_rate,
            "events/s",
            baseline=theirs_rate,
            database=kind,
            per_transaction=per_tx,
        )


if __name__ == "__main__":
    main()
