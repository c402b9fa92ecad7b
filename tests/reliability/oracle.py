"""The history oracle every fault run uses (RELIABILITY.md, "The oracle every fault run uses").

Clients record each operation as invoke → ok | fail | unknown in a `History`, under an id they
generate themselves: the op id is sent as the `Idempotency-Key` and as `X-Request-ID`, which the
ledger stores as the events' `correlation_id`, so the oracle finds in the store exactly what each
operation wrote, whether or not the client saw the answer. After the run `check` compares the
history with a final read of the store, the topic read from offset 0 and the notifier's
database, and prints one line: `ops=… ok=… lost=… duplicated=… reordered=… alerts_dup=…` with the
seed. The six checks:

1. every `ok` operation wrote its events, every `fail` wrote nothing, every `unknown` wrote all
   or nothing; none wrote twice (an operation is one command: no event type twice);
2. per stream, versions are contiguous from 1; no `event_id` appears twice;
3. every stored event is on the topic at least once, first deliveries in store order per key;
4. the notifier's read model rebuilt from the topic equals its live read model;
5. per claim, approved − paid + reversed = outstanding ≥ 0 from the raw events, and the
   ledger's balances (what users see) add up to the same per organisation;
6. each alert identity was raised once, queued for delivery once per subscription and sent, and
   every receiver saw every message id.

Checks that have no source in a run (no topic, no notifier) are reported as not run, never as
passed: the line says which ran (`checks=1,2,5`).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient
from sqlalchemy import Engine, func, select

from services.ledger.application import Ledger
from services.ledger.relay import ensure_topics, event_topics
from services.ledger.store import EventStore
from services.notifier.store import tables as nf
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.claim_position import ClaimTerms, facts_of, position_as_at
from shared.events.catalogue import from_stored
from shared.events.envelope import StoredEvent
from shared.events.types import (
    ClaimApproved,
    ClaimSubmitted,
    PartnershipFormed,
    PaymentRecorded,
    PaymentReversed,
)
from shared.principal import Principal
from shared.settings import KafkaSettings, kafka_client_config
from shared.sql import make_engine
from tests.support.kafka import check_delivery, read_topic
from tests.support.notifier_run import consume_all, snapshot

OK, FAIL, UNKNOWN, INVOKED = "ok", "fail", "unknown", "invoked"

# --- the history ------------------------------------------------------------------------------


@dataclass
class Operation:
    """One client operation. `writes` are the event types it stores when it succeeds."""

    op_id: str
    kind: str
    writes: frozenset[str]
    partnership_id: str | None = None
    outcome: str = INVOKED
    status: int | None = None
    body: Any = None
    attempts: int = 0
    replayed: bool = False  # the answer was the ledger's saved one (Idempotent-Replayed)
    error: str | None = None
    invoked_at: float = field(default_factory=time.monotonic)
    # Seconds from the first retry of an unknown outcome to a definite answer, and of those
    # the time spent told "in flight" (409) by the ledger: a retried key must not wait.
    settled_after: float | None = None
    waited_in_flight: float = 0.0
    # When the attempts were sent that the client stopped waiting for (a read timeout: the
    # server may still be running them), and those that were told "in flight" (409).
    timed_out_sent_at: list[float] = field(default_factory=list)
    in_flight_sent_at: list[float] = field(default_factory=list)
    # When the definite answer came.
    answered_at: float | None = None

    @property
    def headers(self) -> dict[str, str]:
        """What the client sends with every attempt of this operation."""
        return {"Idempotency-Key": self.op_id, "X-Request-ID": self.op_id}

    def answered(self, status: int, body: Any) -> None:
        self.status, self.body = status, body
        self.answered_at = time.monotonic()
        self.outcome = OK if 200 <= status < 300 else FAIL

    def lost_answer(self, error: BaseException | str) -> None:
        self.outcome, self.error = UNKNOWN, str(error)[:300]


class History:
    """Every operation the clients invoked, in invocation order (thread-safe)."""

    def __init__(self, client: str = "client") -> None:
        self._client = f"{client}-{uuid.uuid4().hex[:6]}"
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self.operations: list[Operation] = []

    def invoke(
        self, kind: str, writes: Iterable[str], partnership_id: str | None = None
    ) -> Operation:
        with self._lock:
            op = Operation(f"{self._client}-{kind}-{next(self._numbers)}", kind, frozenset(writes))
            op.partnership_id = partnership_id
            self.operations.append(op)
        return op

    def count(self, outcome: str) -> int:
        return sum(1 for op in self.operations if op.outcome == outcome)

    def by_id(self) -> dict[str, Operation]:
        return {op.op_id: op for op in self.operations}


# --- the verdict ------------------------------------------------------------------------------


@dataclass
class Verdict:
    seed: int | str
    ops: int = 0
    ok: int = 0
    failed: int = 0
    unknown: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    alerts_dup: int = 0
    events: int = 0  # in the store
    redelivered: int = 0  # duplicates on the topic: allowed (at least once), counted
    checks: list[int] = field(default_factory=list)
    problems: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))

    def problem(self, what: str, *details: Any) -> None:
        self.problems[what].extend(details or [what])

    def line(self) -> str:
        return (
            f"ops={self.ops} ok={self.ok} lost={self.lost} duplicated={self.duplicated} "
            f"reordered={self.reordered} alerts_dup={self.alerts_dup} "
            f"fail={self.failed} unknown={self.unknown} events={self.events} "
            f"redelivered={self.redelivered} "
            f"checks={','.join(map(str, self.checks))} seed={self.seed}"
        )

    @property
    def passed(self) -> bool:
        return not self.problems

    def assert_passed(self) -> None:
        assert self.passed, f"oracle failed ({self.line()}):\n" + "\n".join(
            f"  {what}: {details[:10]}" for what, details in self.problems.items()
        )


# --- the checks -------------------------------------------------------------------------------


@dataclass
class Notifier:
    """The notifier under test: its database, and optionally the receivers' message ids."""

    engine: Engine
    received: set[str] | None = None  # message ids the SMTP/webhook receivers accepted


def received_message_ids(smtp: Any = None, hooks: Any = None) -> set[str]:
    """The message ids the test's SMTP server and webhook receiver accepted
    (tests/support/receivers.py), as the notifier's deliveries name them."""
    ids: set[str] = set()
    if smtp is not None:
        ids |= {r.message["Message-ID"].strip("<>").split("@")[0] for r in smtp.inbox.accepted}
    if hooks is not None:
        ids |= {h.headers["webhook-id"] for h in hooks.hits if h.status == 200}
    return ids


def check(
    history: History | None,
    store: EventStore,
    *,
    seed: int | str,
    today: date,
    kafka: KafkaSettings | None = None,
    notifier: Notifier | None = None,
    workdir: Path | None = None,
    label: str = "oracle",
) -> Verdict:
    """Run every check the run has sources for; print the verdict's line (and return it).

    `kafka` (the run's settings) adds check 3; with `notifier` and `workdir` (where the
    rebuilt read model is made) also 4 and 6."""
    stored = store.read_feed(0, 10_000_000)
    verdict = Verdict(seed=seed, events=len(stored))
    if history is not None:
        verdict.ops, verdict.ok = len(history.operations), history.count(OK)
        verdict.failed, verdict.unknown = history.count(FAIL), history.count(UNKNOWN)
        _check_history(history, stored, verdict)
    _check_streams(stored, verdict)
    _check_money(stored, Ledger(store), today, verdict)
    if kafka is not None:
        _check_topic(stored, kafka, verdict)
        if notifier is not None:
            assert workdir is not None, "check 4 rebuilds a read model in workdir"
            ledger_url = store.engine.url.render_as_string(hide_password=False)
            _check_rebuild(notifier.engine, kafka, workdir, ledger_url, verdict)
            _check_alerts(notifier, verdict)
    verdict.checks.sort()
    print(f"\n{label}: {verdict.line()}")
    return verdict


def _check_history(history: History, stored: Sequence[StoredEvent], verdict: Verdict) -> None:
    """Check 1: what each operation wrote, found by its correlation id."""
    verdict.checks.append(1)
    written: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in stored:
        if event.correlation_id:
            written[event.correlation_id].append(event)
    for op in history.operations:
        events = written.get(op.op_id, [])
        types = Counter(event.type for event in events)
        if any(n > 1 for n in types.values()):
            verdict.duplicated += 1
            verdict.problem("an operation executed twice", (op.op_id, dict(types)))
            continue
        complete = set(types) == op.writes
        if op.outcome == OK and not complete:
            verdict.lost += 1
            verdict.problem("an acknowledged operation is not in the store", (op.op_id, types))
        elif op.outcome == OK and not _answer_matches(op, events):
            verdict.problem("the answer names other events than the store", op.op_id)
        elif op.outcome == FAIL and events:
            verdict.problem("a refused operation wrote events", (op.op_id, op.status, types))
        elif op.outcome in (UNKNOWN, INVOKED) and events and not complete:
            verdict.problem("an unknown operation is partly stored", (op.op_id, types))


def _answer_matches(op: Operation, events: Sequence[StoredEvent]) -> bool:
    """The id in an ok answer is the stream (claim, payment, ...) its events were stored in."""
    answer_id = op.body.get("id") if isinstance(op.body, Mapping) else None
    if answer_id is None:
        return True
    return any(event.stream_id.endswith(str(answer_id)) for event in events)


def _check_streams(stored: Sequence[StoredEvent], verdict: Verdict) -> None:
    """Check 2: contiguous versions from 1 per stream; no event id twice."""
    verdict.checks.append(2)
    ids = Counter(event.event_id for event in stored)
    twice = [str(event_id) for event_id, n in ids.items() if n > 1]
    verdict.duplicated += len(twice)
    if twice:
        verdict.problem("an event id is stored twice", *twice)
    versions: dict[str, list[int]] = defaultdict(list)
    for event in stored:
        versions[event.stream_id].append(event.stream_version)
    for stream_id, seen in versions.items():
        if seen != list(range(1, len(seen) + 1)):
            verdict.reordered += 1
            verdict.problem("a stream's versions are not 1..n in order", (stream_id, seen[:20]))


def _check_money(
    stored: Sequence[StoredEvent], ledger: Ledger, today: date, verdict: Verdict
) -> None:
    """Check 5: approved − paid + reversed = outstanding ≥ 0 per claim, from the raw events,
    against the claim's position (shared/claim_position.py) and the ledger's balances."""
    verdict.checks.append(5)
    events = [from_stored(event) for event in stored]
    submitted: dict[str, ClaimSubmitted] = {}
    approved: dict[str, int] = {}
    paid: Counter[str] = Counter()
    reversed_: Counter[str] = Counter()
    members: dict[str, list[str]] = {}
    by_claim: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        if isinstance(event, PartnershipFormed):
            members[event.partnership_id] = list(event.organisation_ids)
        elif isinstance(event, ClaimSubmitted):
            submitted[event.claim_id] = event
        elif isinstance(event, ClaimApproved):
            approved[event.claim_id] = event.amount_pence
        elif isinstance(event, PaymentRecorded | PaymentReversed):
            tally = paid if isinstance(event, PaymentRecorded) else reversed_
            for allocation in event.allocations:
                tally[allocation.claim_id] += allocation.amount_pence
                by_claim[allocation.claim_id].append(event)
            continue
        claim_id = getattr(event, "claim_id", None)
        if claim_id:
            by_claim[claim_id].append(event)
    facts = {claim_id: facts_of(claim_id, by_claim[claim_id]) for claim_id in submitted}
    # As at a day on which every fact has taken effect (a server's clock may be ahead of the
    # test's "today"), so the position and the raw sums speak of the same facts.
    as_at = max([today, *(fact.on for claim in facts.values() for fact in claim)])
    expected: dict[tuple[str, str], int] = Counter()
    for claim_id, submission in submitted.items():
        position = position_as_at(ClaimTerms.of(submission), facts[claim_id], as_at)
        if position is None:
            continue
        outstanding = (
            approved[claim_id] - paid[claim_id] + reversed_[claim_id]
            if claim_id in approved and position.status not in ("rejected", "withdrawn")
            else 0
        )
        if outstanding < 0 or outstanding != position.outstanding_pence:
            verdict.problem(
                "approved − paid + reversed ≠ outstanding ≥ 0",
                (claim_id, outstanding, position.outstanding_pence),
            )
        expected[(submission.partnership_id, submission.payee_id)] += outstanding
    for partnership_id, organisation_ids in members.items():
        viewer = Principal(
            "oracle", organisation_ids[0], "statutory", frozenset({"partner_viewer"})
        )
        for row in ledger.balances(viewer, partnership_id, as_at)["organisations"]:
            want = expected.get((partnership_id, row["organisation_id"]), 0)
            if row["outstanding_pence"] != want or row["outstanding_pence"] < 0:
                verdict.problem(
                    "a balance's outstanding is not the sum of its claims'",
                    (partnership_id, row["organisation_id"], row["outstanding_pence"], want),
                )


def _check_topic(stored: Sequence[StoredEvent], kafka: KafkaSettings, verdict: Verdict) -> None:
    """Check 3: the topic from offset 0 against the store."""
    verdict.checks.append(3)
    delivery = check_delivery(stored, read_topic(kafka.bootstrap_servers, kafka.events_topic))
    verdict.lost += len(delivery.lost)
    verdict.reordered += len(delivery.reordered)
    verdict.redelivered = delivery.duplicated
    if not delivery.ok:
        verdict.problem("the topic does not hold the store in order", delivery.summary())


def read_model_differences(
    live: Engine, kafka: KafkaSettings, workdir: Path, ledger_url: str
) -> dict[str, Any]:
    """Check 4 on its own: consume the topic from offset 0 into a fresh read model (sealed
    personal fields opened with the keys in the ledger's database at `ledger_url`) and compare
    it with the live one; per table that differs, (rows missing from live, rows extra)."""
    url = f"sqlite:///{workdir / f'rebuilt-{uuid.uuid4().hex[:6]}.db'}"
    upgrade_notifier(url)
    rebuilt = make_engine(url)
    # Its own dead-letter topic (made here, deleted after): the rebuild must not add to the
    # run's.
    settings = replace(kafka, dlq_topic=f"{kafka.dlq_topic}.oracle")
    config = kafka_client_config(settings)
    ensure_topics(config, [spec for spec in event_topics(settings) if spec.name.endswith("oracle")])
    try:
        # The read model only, no alerts.
        consume_all(rebuilt, settings, after_batch=None, ledger_url=ledger_url)
        want, got = snapshot(rebuilt), snapshot(live)
    finally:
        rebuilt.dispose()
        admin = KafkaAdminClient(**config)
        try:
            admin.delete_topics([settings.dlq_topic])
        finally:
            admin.close()
    return {
        table: (len(set(want[table]) - set(got[table])), len(set(got[table]) - set(want[table])))
        for table in want
        if want[table] != got[table]
    }


def _check_rebuild(
    live: Engine, kafka: KafkaSettings, workdir: Path, ledger_url: str, verdict: Verdict
) -> None:
    verdict.checks.append(4)
    differences = read_model_differences(live, kafka, workdir, ledger_url)
    for table, (missing, extra) in differences.items():
        verdict.lost += missing
        verdict.problem(
            f"live {table} differs from the rebuild", f"{missing} rows missing, {extra} extra"
        )


def _check_alerts(notifier: Notifier, verdict: Verdict) -> None:
    """Check 6: each alert identity once; each delivery queued once and sent; received."""
    verdict.checks.append(6)
    with notifier.engine.connect() as connection:
        identities = connection.execute(
            select(nf.alerts.c.subject_id, nf.alerts.c.kind, nf.alerts.c.level, func.count())
            .group_by(nf.alerts.c.subject_id, nf.alerts.c.kind, nf.alerts.c.level)
            .having(func.count() > 1)
        ).all()
        deliveries = connection.execute(
            select(
                nf.deliveries.c.alert_id,
                nf.deliveries.c.subscription_id,
                nf.deliveries.c.channel,
                nf.deliveries.c.recipient,
                nf.deliveries.c.message_id,
                nf.deliveries.c.status,
            ).where(nf.deliveries.c.alert_id.is_not(None))
        ).all()
    verdict.alerts_dup += sum(row[3] - 1 for row in identities)
    if identities:
        verdict.problem("an alert identity was raised twice", *identities)
    queued = Counter((d.alert_id, d.subscription_id, d.channel, d.recipient) for d in deliveries)
    twice = [key for key, n in queued.items() if n > 1]
    verdict.alerts_dup += len(twice)
    if twice:
        verdict.problem("an alert was queued twice for one recipient", *twice)
    unsent = [(d.message_id, d.status) for d in deliveries if d.status != "sent"]
    if unsent:
        verdict.problem("an alert was not delivered", *unsent)
    if notifier.received is not None:
        missing = {d.message_id for d in deliveries} - notifier.received
        if missing:
            verdict.problem("a receiver never saw a delivered message", *sorted(missing))
