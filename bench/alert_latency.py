"""P4: submission -> alert visible, p50/p99, from an open-loop generator at steady rates.

The whole path as deployed, each part a process of its own: `bridges ledger serve` (gunicorn,
SQLite), `bridges ledger relay` to a fresh topic on the broker at KAFKA_BOOTSTRAP_SERVERS, and
`bridges notifier run` (alert rules on). Every claim is the first under an agreement whose
budget it takes past 80%, so each submission raises one budget alert. The generator sends
claim n at start + n/rate whatever the answers before it (open loop: a slow answer does not
delay the next request, so queueing shows in the figures); a claim's latency runs from its
scheduled send time to the moment its alert is in the notifier's database (what the alert API
reads), polled every 10 ms. No baseline: the figure is the end-to-end time (goal p99 <= 250 ms
at 100 claims/s), with the achieved rate (claims answered per second, from the first send to
the last answer) beside the offered one. Below each rate, where the time went, per claim
(p50/p99 of each stage): `ledger` from the scheduled send to the event's occurred_at (the
request's queueing and the append), `relay` from there to the record's timestamp (the relay's
poll of the store), `notifier` from there to the alert's raised_at (the broker, the consumer's
fetch and the start of its batch), `visible` from there to the watcher's sight of it (the
batch's work, its commit, the 10 ms poll).

    .venv/bin/python bench/alert_latency.py                        # 5, 10, 20, 40 claims/s
    .venv/bin/python bench/alert_latency.py --rates 100 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from _results import record  # noqa: E402
from kafka import KafkaConsumer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402
from sqlalchemy import select  # noqa: E402

from services.ledger.api.schemas import AgreementIn  # noqa: E402
from services.ledger.application import Ledger  # noqa: E402
from services.ledger.store import EventStore, upgrade  # noqa: E402
from services.notifier.store.migrate import upgrade as upgrade_notifier  # noqa: E402
from services.notifier.store.tables import alerts  # noqa: E402
from shared.events.envelope import StoredEvent  # noqa: E402
from shared.principal import Principal  # noqa: E402
from shared.settings import LedgerSettings  # noqa: E402
from shared.sql import make_engine  # noqa: E402

BRIDGES = str(Path(sys.executable).with_name("bridges"))
BUDGET_PENCE = 10_000  # one claim of 92.40 takes it past 80%
# time.time() - time.perf_counter(): the wall clock of a perf_counter reading.
WALL = time.time() - time.perf_counter()
STAGES = ("ledger", "relay", "notifier", "visible")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup(ledger: Ledger, agreements: int) -> tuple[str, list[str]]:
    """One partnership with `agreements` budgeted agreements; the VCSE member's token."""
    today = ledger.today()
    with ledger.store.unit_of_work() as uow:
        ops = ledger.register_organisation(uow, None, {"name": "Operations", "kind": "statutory"})
        person = ledger.add_person(
            uow, None, ops["id"], {"name": "Op", "email": "op@b.example", "roles": ["operator"]}
        )
        operator = Principal(person["id"], ops["id"], "statutory", frozenset({"operator"}))
        payer = ledger.register_organisation(uow, operator, {"name": "ICB", "kind": "statutory"})
        payee = ledger.register_organisation(uow, operator, {"name": "Charity", "kind": "vcse"})
        partnership = ledger.form_partnership(
            uow, operator, {"name": "P4", "organisation_ids": [payer["id"], payee["id"]]}
        )
        member = ledger.add_person(
            uow,
            operator,
            payee["id"],
            {"name": "Member", "email": "member@b.example", "roles": ["vcse_member"]},
        )
        token = ledger.issue_token(uow, member["id"])
    ids = []
    for start in range(0, agreements, 200):
        with ledger.store.unit_of_work() as uow:
            for _ in range(start, min(agreements, start + 200)):
                terms = {
                    "payer_id": payer["id"],
                    "payee_id": payee["id"],
                    "nation": "england",
                    "starts_on": (today - timedelta(days=30)).isoformat(),
                    "ends_on": (today + timedelta(days=365)).isoformat(),
                    "rates": {"hourly_pence": 2500, "half_day_pence": 8000},
                    "budget_pence": BUDGET_PENCE,
                }
                agreement = ledger.sign_agreement(
                    uow, operator, partnership["id"], AgreementIn().load(terms)
                )
                ids.append(agreement["id"])
    return token, ids


def claim(agreement_id: str, today: str) -> dict[str, Any]:
    return {
        "agreement_id": agreement_id,
        "lines": [
            {
                "worked_on": today,
                "hours": "3.5",
                "activity": "co_design",
                "worker": "Amina Khan",
                "description": "Co-design workshop",
            }
        ],
        "expenses": [{"category": "travel", "amount_pence": 1240, "description": "Bus fares"}],
    }


class Watcher(threading.Thread):
    """Notes when each agreement's budget alert first appears in the notifier's database."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        query = select(alerts.c.subject_id).where(alerts.c.kind == "budget_threshold")
        while not self.stop.is_set():
            with self.engine.connect() as connection:
                rows = connection.execute(query).scalars().all()
            now = time.perf_counter()
            for subject in rows:
                self.seen.setdefault(subject, now)
            time.sleep(0.01)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [BRIDGES, *args],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def run_rate(
    base: str, token: str, agreements: list[str], rate: float, today: str, watcher: Watcher
) -> dict[str, float]:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    scheduled: dict[str, float] = {}
    errors = 0

    def send(agreement_id: str, at: float) -> None:
        nonlocal errors
        scheduled[agreement_id] = at
        try:
            response = session.post(
                f"{base}/api/v1/claims",
                json=claim(agreement_id, today),
                headers=headers,
                timeout=30,
            )
            if response.status_code != 201:
                errors += 1
        except requests.RequestException:
            errors += 1

    began = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=64) as pool:
        for n, agreement_id in enumerate(agreements):
            at = began + n / rate
            pause = at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(send, agreement_id, at)
    sent_for = time.perf_counter() - began
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and not all(a in watcher.seen for a in agreements):
        time.sleep(0.05)
    latencies = sorted(watcher.seen[a] - scheduled[a] for a in agreements if a in watcher.seen)
    missing = len(agreements) - len(latencies)
    if not latencies:
        raise RuntimeError(f"no alert became visible at {rate}/s ({errors} requests failed)")
    return {
        "offered": rate,
        "achieved": len(agreements) / sent_for,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "missing": missing,
        "errors": errors,
        "scheduled": scheduled,  # type: ignore[dict-item]
    }


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def record_times(bootstrap: str, topic: str) -> dict[str, float]:
    """Every record's timestamp (the relay's clock when it sent it, in s), by event id."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    found: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(consumer.position(p) < ends[p] for p in partitions):
        for batch in consumer.poll(timeout_ms=500).values():
            for message in batch:
                event_id = dict(message.headers or ()).get("ce_id", b"").decode()
                found.setdefault(event_id, message.timestamp / 1000)
    consumer.close()
    return found


def stages(
    scheduled: dict[str, float],
    seen: dict[str, float],
    feed: list[StoredEvent],
    sent: dict[str, float],
    raised: dict[str, float],
) -> dict[str, list[float]]:
    """Per stage (see the module docstring), the seconds each claim spent in it."""
    appended: dict[str, tuple[float, str]] = {}
    for event in feed:
        if event.type == "ClaimSubmitted":
            appended[event.data["agreement_id"]] = (
                event.occurred_at.timestamp(),
                str(event.event_id),
            )
    spent: dict[str, list[float]] = {name: [] for name in STAGES}
    for agreement_id, at in scheduled.items():
        if agreement_id not in seen or agreement_id not in appended:
            continue
        occurred, event_id = appended[agreement_id]
        if event_id not in sent or agreement_id not in raised:
            continue
        marks = [at, occurred, sent[event_id], raised[agreement_id], seen[agreement_id]]
        marks[0] += WALL
        marks[-1] += WALL
        for name, start, end in zip(STAGES, marks, marks[1:], strict=False):
            spent[name].append(end - start)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--seconds", type=float, default=6.0, help="per rate")
    args = parser.parse_args()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    counts = [max(1, int(rate * args.seconds)) for rate in args.rates]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ledger_url = f"sqlite:///{folder / 'ledger.db'}"
        notifier_url = f"sqlite:///{folder / 'notifier.db'}"
        topic = f"bench.p4.{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "BRIDGES_VAR_DIR": str(folder),
            "DATABASE_URL": ledger_url,
            "NOTIFIER_DATABASE_URL": notifier_url,
            # The data keys of sealed personal fields, straight from the ledger's database.
            "BRIDGES_NOTIFIER_KEYS_URL": ledger_url,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "BRIDGES_EVENTS_TOPIC": topic,
            "BRIDGES_DLQ_TOPIC": f"{topic}.dlq",
            "BRIDGES_LEDGER_WORKERS": "2",
        }
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(topic, 6, 1), NewTopic(f"{topic}.dlq", 1, 1)])
        admin.close()
        upgrade(ledger_url)
        upgrade_notifier(notifier_url)
        ledger = Ledger(EventStore(make_engine(ledger_url)), settings=LedgerSettings(var_dir=tmp))
        token, agreements = setup(ledger, sum(counts))
        today = ledger.today().isoformat()
        port = free_port()
        log = folder / "processes.log"
        processes = [
            start(["ledger", "serve", "--port", str(port)], env, log),
            start(["ledger", "relay"], env, log),
            start(["notifier", "run", "--metrics-port", "0"], env, log),
        ]
        base = f"http://127.0.0.1:{port}"
        watcher = Watcher(notifier_url)
        try:
            wait_ready(base, log)
            # The setup's events (organisations, agreements) reach the notifier first.
            time.sleep(3)
            watcher.start()
            rows: list[dict[str, Any]] = []
            used = 0
            for rate, count in zip(args.rates, counts, strict=True):
                result = run_rate(
                    base, token, agreements[used : used + count], rate, today, watcher
                )
                used += count
                rows.append(result)
                print(
                    f"offered {rate:>6.1f}/s achieved {result['achieved']:>6.1f}/s  "
                    f"p50 {result['p50_ms']:>8.1f} ms  p99 {result['p99_ms']:>8.1f} ms  "
                    f"missing {result['missing']} errors {result['errors']}"
                )
                labels = {"offered": rate, "achieved": result["achieved"]}
                record("P4", "alert p50", result["p50_ms"], "ms", **labels)
                record("P4", "alert p99", result["p99_ms"], "ms", goal="<= 250", **labels)
            breakdown(ledger, notifier_url, bootstrap, topic, rows, watcher.seen)
        except RuntimeError as error:
            raise SystemExit(f"{error}; the processes' log:\n" + log.read_text()[-4000:]) from None
        finally:
            watcher.stop.set()
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def breakdown(
    ledger: Ledger,
    notifier_url: str,
    bootstrap: str,
    topic: str,
    rows: list[dict[str, Any]],
    seen: dict[str, float],
) -> None:
    """Print, per rate, the p50/p99 of each stage of the claims' latency."""
    feed = ledger.store.read_feed(0, 1_000_000)
    sent = record_times(bootstrap, topic)
    engine = make_engine(notifier_url)
    with engine.connect() as connection:
        query = select(alerts.c.subject_id, alerts.c.raised_at).where(
            alerts.c.kind == "budget_threshold"
        )
        raised = {subject: at.timestamp() for subject, at in connection.execute(query)}
    engine.dispose()
    for row in rows:
        spent = stages(row["scheduled"], seen, feed, sent, raised)
        parts = "  ".join(
            f"{name} {quantile(times, 0.5) * 1000:.0f}/{quantile(times, 0.99) * 1000:.0f}"
            for name, times in spent.items()
            if times
        )
        print(f"  at {row['offered']:>6.1f}/s, ms p50/p99: {parts}")


def wait_ready(base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise SystemExit("the ledger did not start:\n" + log.read_text()[-3000:])


if __name__ == "__main__":
    main()
