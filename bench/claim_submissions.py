"""P1: claim submissions per second through gunicorn — the real ledger (`bridges ledger serve`:
bearer-token auth, marshmallow validation, idempotency keys, the event store) on PostgreSQL —
against a bare Flask+gunicorn endpoint that does one INSERT of the same JSON into a table in the
same PostgreSQL database, in the same run.

Setup (not timed): a throwaway database on the server at `--database-url` (default
`deploy/local/postgres.sh url`, started with `postgres.sh up` if it does not answer), dropped at
the end; the ledger's schema and data from `bridges db upgrade` and `bridges demo seed --json`
(the Hope Street member's token, the Hope Street–ICB agreement); the bare endpoint's table. Both
servers run under gunicorn with the same settings, deploy/gunicorn.conf.py (gthread; workers and
threads from BRIDGES_LEDGER_WORKERS / BRIDGES_LEDGER_THREADS, access log on), `--workers`
overriding the workers of both; their output goes to files in a temporary directory, which is also
their BRIDGES_VAR_DIR. Each server gets `--threads` × 5 warm-up requests first.

Timed: `--threads` client threads, each with its own `requests.Session` (keep-alive), each sending
`--requests` POST /api/v1/claims with the README's claim body (a co-design workshop yesterday and
a bus fare), a bearer token and a unique Idempotency-Key — the same bytes and headers to both
servers. Every response must be 201; failures are counted and shown, and only 201s count towards
the rate. Rounds alternate which server goes first; the best round counts. Afterwards the stored
rows are counted against the 201s. The load generator shares the machine with the servers, so its
own CPU use is printed next to each figure: near 100% (one GIL) the baseline is client-bound and
the ratio flatters the ledger.

    .venv/bin/python bench/claim_submissions.py
    .venv/bin/python bench/claim_submissions.py --threads 4 --requests 50 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
BARE_URL_ENV = "BENCH_BARE_DATABASE_URL"
BARE_TABLE = "bench_bare_claims"
PATH = "/api/v1/claims"


# ------------------------------------------------------------------------------ the bare baseline


def bare_app() -> Any:
    """The baseline app, built by gunicorn in each worker: parse the JSON, INSERT it, 201."""
    from flask import Flask, jsonify, request
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ[BARE_URL_ENV])
    insert = text(f"INSERT INTO {BARE_TABLE} (body) VALUES (CAST(:body AS jsonb)) RETURNING id")
    app = Flask("bench.bare")

    @app.post(PATH)
    def submit() -> Any:
        body = request.get_json()
        with engine.begin() as connection:
            claim_id = connection.execute(insert, {"body": json.dumps(body)}).scalar_one()
        return jsonify(id=claim_id), 201

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app


# ------------------------------------------------------------------------------ the database


def count(url: Any, sql: str) -> int:
    from _postgres import admin_connect

    with admin_connect(url, url.database) as connection:
        return int(connection.execute(sql).fetchone()[0])


# ------------------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready_path: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import requests

        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole below
                cwd=ROOT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.base + self.ready_path, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise SystemExit(f"{self.name} server did not become ready; its log ends:\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)  # the group this script created for it
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# ------------------------------------------------------------------------------ load


@dataclass
class Run:
    seconds: float
    client_cpu: float  # CPU seconds this process (the load generator) used during the run
    statuses: Counter[int | str]
    latencies: list[float]
    failures: list[str]

    @property
    def created(self) -> int:
        return self.statuses[201]

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def load(base: str, token: str, body: bytes, threads: int, requests_each: int, label: str) -> Run:
    import requests

    barrier = threading.Barrier(threads + 1)
    lock = threading.Lock()
    statuses: Counter[int | str] = Counter()
    latencies: list[float] = []
    failures: list[str] = []

    def client(n: int) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        mine: Counter[int | str] = Counter()
        times: list[float] = []
        bad: list[str] = []
        barrier.wait()
        for i in range(requests_each):
            headers["Idempotency-Key"] = f"bench-{label}-{n}-{i}-{uuid.uuid4().hex}"
            started = time.perf_counter()
            try:
                response = session.post(base + PATH, data=body, headers=headers, timeout=60)
            except requests.RequestException as error:
                mine[type(error).__name__] += 1
                bad.append(f"{type(error).__name__}: {error}")
                continue
            times.append(time.perf_counter() - started)
            mine[response.status_code] += 1
            if response.status_code != 201:
                bad.append(f"{response.status_code}: {response.text[:300]}")
        session.close()
        with lock:
            statuses.update(mine)
            latencies.extend(times)
            failures.extend(bad)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return Run(seconds, time.process_time() - cpu, statuses, latencies, failures)


def describe(run: Run) -> str:
    ordered = sorted(run.latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    p50 = statistics.median(ordered)
    return (
        f"{run.created / run.seconds:7,.0f} requests/s  p50 {p50 * 1000:5.1f} ms"
        f"  p99 {p99 * 1000:6.1f} ms  client CPU {run.client_cpu / run.seconds:4.0%}"
        f"  failures {run.total - run.created}"
    )


def report_failures(name: str, run: Run) -> None:
    if run.total == run.created:
        return
    print(f"    {name}: {run.total - run.created} of {run.total} not 201: {dict(run.statuses)}")
    for line in run.failures[:5]:
        print(f"      {line}")


# ------------------------------------------------------------------------------ main


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "bridges"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"bridges {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def claim_body(agreement_id: str) -> bytes:
    """README's "Walk through a claim with curl" step 1, worked yesterday."""
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    return json.dumps(
        {
            "agreement_id": agreement_id,
            "lines": [
                {
                    "worked_on": yesterday,
                    "hours": "3.5",
                    "activity": "co_design",
                    "worker": "Amina Khan",
                    "description": "Co-design workshop, diabetes pathway",
                }
            ],
            "expenses": [{"category": "travel", "amount_pence": 1240, "description": "Bus fares"}],
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--requests", type=int, default=250, help="requests per thread per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (both)")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server (default: postgres.sh url)"
    )
    args = parser.parse_args()

    from _postgres import admin_connect, ensure_postgres, postgres_url, throwaway_database
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url(args.database_url))
    ensure_postgres(url, start=args.database_url is None)
    with (
        tempfile.TemporaryDirectory(prefix="bench-claims-") as tmp,
        throwaway_database(url, "bench_claims") as db,
    ):
        db_url = db.render_as_string(hide_password=False)
        env = {**os.environ, "DATABASE_URL": db_url, "BRIDGES_VAR_DIR": tmp}
        env[BARE_URL_ENV] = db_url
        if args.workers:
            env["BRIDGES_LEDGER_WORKERS"] = str(args.workers)
        cli(env, "db", "upgrade")
        seed = json.loads(cli(env, "demo", "seed", "--json"))
        token, agreement_id = seed["tokens"]["vcse_member"], seed["agreements"][0]["id"]
        with admin_connect(db, db.database) as connection:
            connection.execute(
                f"CREATE TABLE {BARE_TABLE} (id bigserial PRIMARY KEY, body jsonb NOT NULL)"
            )
        seeded = count(db, "SELECT count(*) FROM events WHERE type = 'ClaimSubmitted'")
        body = claim_body(agreement_id)

        ledger_port, bare_port = free_port(), free_port()
        servers = {
            "ledger": Server(
                "ledger",
                [str(VENV_BIN / "bridges"), "ledger", "serve", "--port", str(ledger_port)],
                env,
                Path(tmp) / "ledger.log",
                "/readyz",
                ledger_port,
            ),
            "bare": Server(
                "bare",
                [
                    *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{bare_port}"),
                    *("--config", str(GUNICORN_CONF), "--pythonpath", str(ROOT / "bench")),
                    "claim_submissions:bare_app()",
                ],
                env,
                Path(tmp) / "bare.log",
                "/healthz",
                bare_port,
            ),
        }
        conf = runpy.run_path(str(GUNICORN_CONF))  # what both servers will read
        workers, threads = args.workers or conf["workers"], conf["threads"]
        print(
            f"claim submissions: {args.threads} client threads × {args.requests} requests, "
            f"{len(body)}-byte body, gunicorn gthread workers={workers} threads={threads}, "
            f"PostgreSQL {url.host}:{url.port}, best of {args.rounds} rounds"
        )
        runs: dict[str, list[Run]] = {"ledger": [], "bare": []}
        answered: Counter[str] = Counter()  # 201s, warm-up included, to check the rows against
        try:
            for server in servers.values():
                server.start()
                warm = load(server.base, token, body, args.threads, 5, f"warm-{server.name}")
                answered[server.name] += warm.created
                report_failures(f"{server.name} warm-up", warm)
            for round_ in range(1, args.rounds + 1):
                order = ["bare", "ledger"] if round_ % 2 else ["ledger", "bare"]
                for name in order:
                    run = load(
                        servers[name].base,
                        token,
                        body,
                        args.threads,
                        args.requests,
                        f"{name}-{round_}",
                    )
                    runs[name].append(run)
                    answered[name] += run.created
                    print(f"  round {round_}: {name:6} {describe(run)}")
                    report_failures(name, run)
        finally:
            for server in servers.values():
                server.stop()

        stored_claims = count(db, "SELECT count(*) FROM events WHERE type = 'ClaimSubmitted'")
        stored_bare = count(db, f"SELECT count(*) FROM {BARE_TABLE}")
    stored = {"ledger": stored_claims - seeded, "bare": stored_bare}
    print(
        "stored rows = 201 responses (warm-up included): "
        + ", ".join(
            f"{name} {stored[name]} = {answered[name]}"
            + ("" if stored[name] == answered[name] else "  MISMATCH")
            for name in servers
        )
    )

    def best(name: str) -> float:
        """Claims created per second in the name's best round (failures do not count)."""
        return max(r.created / r.seconds for r in runs[name])

    ledger_rate, bare_rate = best("ledger"), best("bare")
    failures = sum(r.total - r.created for rs in runs.values() for r in rs)
    print(f"ledger (auth, validation, idempotency, event store) {ledger_rate:7,.0f} claims/s")
    print(f"bare Flask, one INSERT (baseline)                   {bare_rate:7,.0f} requests/s")
    print(f"ratio ledger/bare = {ledger_rate / bare_rate:.2f}   failures (not 201) = {failures}")


if __name__ == "__main__":
    main()
