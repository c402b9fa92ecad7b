"""P1: claim submissions per second through gunicorn, with an external load generator (`wrk`):
the real ledger (`bridges ledger serve`: bearer-token auth, marshmallow validation, idempotency
keys, the event store) against a bare Flask+gunicorn endpoint that parses the same JSON and does
one INSERT of it into a table of the same database, on SQLite and on PostgreSQL, at 1, 4 and 16
connections, in the same run.

Setup (not timed), per database: a fresh one (SQLite: a file in a temporary directory;
PostgreSQL: a throwaway database on the server at `--database-url`, default
`deploy/local/postgres.sh url`, dropped at the end); the ledger's schema and data from
`bridges db upgrade` and `bridges demo seed --json` (the Hope Street member's token, the Hope
Street–ICB agreement); the bare endpoint's table. Both servers run under gunicorn with the same
settings, deploy/gunicorn.conf.py (gthread; workers and threads from BRIDGES_LEDGER_WORKERS /
BRIDGES_LEDGER_THREADS, which also pick their SQLite defaults; access log on), `--workers`
overriding the workers of both; their output goes to files in the temporary directory.

Timed: `wrk -t min(2, c) -c c -d <seconds> --latency` per connection count c, with a Lua script
(written beside the logs) that sends POST /api/v1/claims with the README's claim body (a
co-design workshop yesterday and a bus fare), the bearer token and a unique Idempotency-Key per
request: the same bytes and headers to both servers. The servers alternate which goes first.
After each run the stored rows are counted against the 2xx responses wrk saw (the script counts
them); non-2xx answers and socket errors are counted and shown. wrk is a C program, so the load
generator costs the servers little CPU; it still shares the machine with them.

    .venv/bin/python bench/claim_submissions.py
    .venv/bin/python bench/claim_submissions.py --seconds 3 --connections 16 --databases sqlite
    .venv/bin/python bench/claim_submissions.py --py-spy /tmp/p1-profiles   # and profile it

With `--py-spy DIR`, py-spy (PyPI: `.venv/bin/pip install py-spy`) samples the ledger's
gunicorn workers through each timed ledger run (`py-spy record --subprocesses --nonblocking
--format raw`), writes DIR/<database>-c<connections>.txt (collapsed stacks, for flame graph
tools) and prints the functions most often on the stack: where a submission's time goes, on
the same run it measures (sampling slows the ledger: read its figures from a run without it).

`wrk` comes from Debian's packages (`apt-get install wrk`); `make bench` installs it if missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
    """The baseline app, built by gunicorn in each worker: parse the JSON, INSERT it, 201.

    Its engine is the project's own `make_engine` (SQLite: WAL, busy timeout, BEGIN IMMEDIATE
    for writers) so both servers meet the database on the same terms."""
    from flask import Flask, jsonify, request
    from sqlalchemy import text

    from shared.sql import begin_write, make_engine

    engine = make_engine(os.environ[BARE_URL_ENV])
    cast = "CAST(:body AS jsonb)" if engine.dialect.name == "postgresql" else ":body"
    insert = text(f"INSERT INTO {BARE_TABLE} (body) VALUES ({cast}) RETURNING id")
    app = Flask("bench.bare")

    @app.post(PATH)
    def submit() -> Any:
        body = request.get_json()
        with begin_write(engine) as connection:
            claim_id = connection.execute(insert, {"body": json.dumps(body)}).scalar_one()
        return jsonify(id=claim_id), 201

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app


# ------------------------------------------------------------------------------ the database


class Database:
    """One database both servers write to, and how to count its rows."""

    def __init__(self, kind: str, url: str, sqlite_path: Path | None = None) -> None:
        self.kind = kind
        self.url = url
        self.sqlite_path = sqlite_path

    def execute(self, sql: str) -> int | None:
        if self.sqlite_path is not None:
            with sqlite3.connect(self.sqlite_path, timeout=30) as connection:
                row = connection.execute(sql).fetchone()
            return None if row is None else int(row[0])
        from _postgres import admin_connect
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        with admin_connect(url, str(url.database)) as connection:
            cursor = connection.execute(sql)
            row = cursor.fetchone() if cursor.description else None
        return None if row is None else int(row[0])

    def rows(self, name: str) -> int:
        if name == "ledger":
            sql = "SELECT count(*) FROM events WHERE type = 'ClaimSubmitted'"
        else:
            sql = f"SELECT count(*) FROM {BARE_TABLE}"
        return int(self.execute(sql) or 0)


@contextmanager
def database(kind: str, tmp: Path, postgres: str | None) -> Iterator[Database]:
    if kind == "sqlite":
        path = tmp / "bench.db"
        yield Database(kind, f"sqlite:///{path}", path)
        return
    from _postgres import ensure_postgres, postgres_url, throwaway_database
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url(postgres))
    ensure_postgres(url, start=postgres is None)
    with throwaway_database(url, "bench_claims") as db:
        yield Database(kind, db.render_as_string(hide_password=False))


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

# wrk's script: every request a unique Idempotency-Key (thread number, counter), the same body
# and token; the 2xx responses are counted per thread and summed in done().
WRK_SCRIPT = """
local threads = {}
counter = 0  -- globals: done() reads each thread's through thread:get
created = 0
refused = 0

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1] .. "-" .. number .. "-"
  wrk.method = "POST"
  wrk.body = BODY
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. TOKEN
end

function request()
  counter = counter + 1  -- requests sent: those unanswered when wrk stops may still be stored
  wrk.headers["Idempotency-Key"] = prefix .. counter
  return wrk.format(nil, PATH)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    created = created + 1
  else
    refused = refused + 1
    if refused <= 3 then
      io.stderr:write("status " .. status .. ": " .. body:sub(1, 300) .. "\\n")
    end
  end
end

function done(summary, latency, requests)
  local ok, bad, sent = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("created")
    bad = bad + thread:get("refused")
    sent = sent + thread:get("counter")
  end
  io.write(string.format("BENCH-2XX %d\\nBENCH-NON-2XX %d\\n", ok, bad))
  io.write(string.format("BENCH-UNANSWERED %d\\n", sent - ok - bad))
  io.write(string.format("BENCH-P50 %f\\nBENCH-P99 %f\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("BENCH-ERRORS %d\\n",
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("BENCH-SECONDS %f\\n", summary.duration / 1e6))
end
"""


@dataclass
class Run:
    created: int  # 2xx responses
    refused: int  # other statuses
    errors: int  # socket errors and timeouts
    seconds: float
    p50_ms: float
    p99_ms: float
    stored: int  # rows the run added
    unanswered: int  # sent but not answered when wrk stopped (each may or may not be stored)

    @property
    def stored_ok(self) -> bool:
        """Every 2xx stored once, nothing refused stored, at most the unanswered ones beside."""
        return self.created <= self.stored <= self.created + self.unanswered

    @property
    def rate(self) -> float:
        return self.created / self.seconds

    def describe(self) -> str:
        extra = self.stored - self.created
        check = f"  stored {self.created}+{extra} in flight" if extra else "  stored = 2xx"
        if not self.stored_ok:
            check = f"  STORED {self.stored} MISMATCH ({self.unanswered} unanswered)"
        return (
            f"{self.rate:7,.0f} requests/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:7.1f} ms"
            f"  2xx {self.created}  non-2xx {self.refused}  errors {self.errors}{check}"
        )


def write_script(tmp: Path, token: str, body: bytes) -> Path:
    path = tmp / "claims.lua"
    header = (
        f"TOKEN = {json.dumps(token)}\nPATH = {json.dumps(PATH)}\n"
        f"BODY = {json.dumps(body.decode())}\n"
    )
    path.write_text(header + WRK_SCRIPT)
    return path


def wrk(base: str, script: Path, connections: int, seconds: float, label: str) -> dict[str, float]:
    threads = min(2, connections)
    argv = [
        *("wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency"),
        *("--timeout", "30s", "-s", str(script), base + PATH, "--", label),
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    figures = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^BENCH-([A-Z0-9-]+) ([0-9.]+)$", result.stdout, re.MULTILINE)
    }
    if result.returncode != 0 or "2XX" not in figures:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    for line in result.stderr.splitlines()[:3]:
        print(f"      {line}")
    return figures


@contextmanager
def sampled(server: Server, output: Path | None, seconds: float) -> Iterator[None]:
    """py-spy samples the server's workers while the block runs (nothing if `output` is None)."""
    if output is None:
        yield
        return
    assert server.process is not None
    spy = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    output.parent.mkdir(parents=True, exist_ok=True)
    argv = [spy, "record", "--pid", str(server.process.pid), "--subprocesses", "--nonblocking"]
    argv += ["--format", "raw", "--rate", "250", "--duration", str(int(seconds) + 1)]
    argv += ["--output", str(output)]
    recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)  # attached before the load starts
    try:
        yield
    finally:
        _, errors = recorder.communicate(timeout=seconds + 60)
        if recorder.returncode != 0 or not output.exists():
            print(f"      py-spy failed ({recorder.returncode}): {errors.decode()[-500:]}")
        else:
            print(profile_summary(output))


def _short(frame: str) -> str:
    """A sampled frame with its file named from the checkout or the installed packages."""
    frame = frame.replace(f"{ROOT}/", "")
    return re.sub(r" \(\S*/site-packages/", " (", frame)


def profile_summary(path: Path, top: int = 18) -> str:
    """The project's functions most often on the sampled stacks (inclusive) and any function
    most often on top of them (self), as shares of the samples of request threads (stacks
    through gunicorn's request handling; idle threads waiting for work are left out)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if "handle_request" not in stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        total += count
        for frame in dict.fromkeys(frames):
            if frame.partition(" (")[2].startswith(("services/", "shared/")):
                inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    if not total:
        return f"      {path.name}: no samples of request handling"
    lines = [f"      {path.name}: {total} samples of request handling; ours on the stack:"]
    for frame, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"      {100 * count / total:5.1f}%  {frame[:110]}")
    lines.append("      ...on top (self):")
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[: top // 2]:
        lines.append(f"      {100 * count / total:5.1f}%  {frame[:110]}")
    return "\n".join(lines)


def measure(
    db: Database,
    server: Server,
    script: Path,
    connections: int,
    seconds: float,
    label: str,
    profile: Path | None = None,
) -> Run:
    before = db.rows(server.name)
    with sampled(server, profile, seconds):
        figures = wrk(server.base, script, connections, seconds, label)
    stored, deadline = db.rows(server.name), time.monotonic() + 10
    while time.monotonic() < deadline:  # requests wrk left in flight finish (or not) first
        time.sleep(0.3)
        again = db.rows(server.name)
        if again == stored:
            break
        stored = again
    return Run(
        created=int(figures["2XX"]),
        refused=int(figures["NON-2XX"]),
        errors=int(figures["ERRORS"]),
        seconds=figures["SECONDS"],
        p50_ms=figures["P50"],
        p99_ms=figures["P99"],
        stored=stored - before,
        unanswered=int(figures["UNANSWERED"]),
    )


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


def bench_database(kind: str, args: argparse.Namespace) -> list[tuple[int, Run, Run]]:
    from _results import record

    with tempfile.TemporaryDirectory(prefix="bench-claims-") as tmp_name:
        tmp = Path(tmp_name)
        with database(kind, tmp, args.database_url) as db:
            env = {**os.environ, "DATABASE_URL": db.url, "BRIDGES_VAR_DIR": str(tmp / "var")}
            env[BARE_URL_ENV] = db.url
            env.setdefault("BRIDGES_LEDGER_ACCESS_LOG", "-")
            if args.workers:
                env["BRIDGES_LEDGER_WORKERS"] = str(args.workers)
            cli(env, "db", "upgrade")
            seed = json.loads(cli(env, "demo", "seed", "--json"))
            token, agreement_id = seed["tokens"]["vcse_member"], seed["agreements"][0]["id"]
            column = "jsonb" if kind == "postgresql" else "TEXT"
            pk = "bigserial PRIMARY KEY" if kind == "postgresql" else "INTEGER PRIMARY KEY"
            db.execute(f"CREATE TABLE {BARE_TABLE} (id {pk}, body {column} NOT NULL)")
            script = write_script(tmp, token, claim_body(agreement_id))

            ledger_port, bare_port = free_port(), free_port()
            servers = {
                "ledger": Server(
                    "ledger",
                    [str(VENV_BIN / "bridges"), "ledger", "serve", "--port", str(ledger_port)],
                    env,
                    tmp / "ledger.log",
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
                    tmp / "bare.log",
                    "/healthz",
                    bare_port,
                ),
            }
            saved = dict(os.environ)
            os.environ.update(env)  # the config reads the servers' environment
            try:
                conf = runpy.run_path(str(GUNICORN_CONF))
            finally:
                os.environ.clear()
                os.environ.update(saved)
            print(
                f"{kind}: gunicorn gthread workers={conf['workers']} threads={conf['threads']},"
                f" wrk {args.seconds:g} s per run, {len(claim_body(agreement_id))}-byte body"
            )
            results: list[tuple[int, Run, Run]] = []
            try:
                for server in servers.values():
                    server.start()
                    # Warm up (each worker's first requests compile and connect) until
                    # requests are answered: on a loaded machine the first take seconds.
                    for attempt in range(5):
                        warm = measure(db, server, script, 4, 2, f"warm{attempt}-{server.name}")
                        if warm.created > 0:
                            break
                    else:
                        tail = server.log.read_text(errors="replace")[-1500:]
                        raise SystemExit(
                            f"{server.name}: no 2xx in the warm-up: {warm.describe()}\n{tail}"
                        )
                for number, connections in enumerate(args.connections):
                    order = ["bare", "ledger"] if number % 2 == 0 else ["ledger", "bare"]
                    runs: dict[str, Run] = {}
                    for name in order:
                        profile = None
                        if args.py_spy is not None and name == "ledger":
                            profile = Path(args.py_spy) / f"{kind}-c{connections}.txt"
                        runs[name] = measure(
                            db,
                            servers[name],
                            script,
                            connections,
                            args.seconds,
                            f"{name}{number}",
                            profile,
                        )
                    for name in ("ledger", "bare"):
                        print(f"  {connections:2} connections  {name:6} {runs[name].describe()}")
                    ratio = runs["ledger"].rate / runs["bare"].rate
                    print(f"  {connections:2} connections  ratio ledger/bare = {ratio:.2f}")
                    labels = {"database": kind, "connections": connections}
                    record(
                        "P1",
                        "claims/s",
                        runs["ledger"].rate,
                        "requests/s",
                        baseline=runs["bare"].rate,
                        goal="ratio >= 0.5",
                        **labels,
                    )
                    record("P1", "p50", runs["ledger"].p50_ms, "ms", **labels)
                    record("P1", "p99", runs["ledger"].p99_ms, "ms", **labels)
                    results.append((connections, runs["ledger"], runs["bare"]))
            finally:
                for server in servers.values():
                    server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per run")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=DATABASES
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (both)")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server (default: postgres.sh url)"
    )
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        default=None,
        help="sample the ledger's workers with py-spy in each run; profiles go to DIR",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench installs it)")

    results = {kind: bench_database(kind, args) for kind in args.databases}
    print("summary (ledger/bare requests/s; the ledger's p50 / p99):")
    bad = 0
    for kind, rows in results.items():
        for connections, ledger, bare in rows:
            bad += ledger.refused + ledger.errors + bare.refused + bare.errors
            bad += (not ledger.stored_ok) + (not bare.stored_ok)
            print(
                f"  {kind:10} c={connections:<2} ledger {ledger.rate:6,.0f}  bare {bare.rate:6,.0f}"
                f"  ratio {ledger.rate / bare.rate:.2f}"
                f"  p50 {ledger.p50_ms:6.1f} ms  p99 {ledger.p99_ms:7.1f} ms"
            )
    print(f"failures (non-2xx, socket errors, runs whose stored rows != 2xx): {bad}")


DATABASES = ("sqlite", "postgresql")

if __name__ == "__main__":
    main()
