"""R3: the notifier process dies at random points — mid-batch, before the commit, after the
commit, after sending an email or webhook but before recording it — 20 times while events keep
arriving. Afterwards every alert identity exists exactly once; every alert a clean run raises
from the same topic is there, and any other is one that evaluating after every single event
also raises (an intermediate state a big batch skips); every delivery was sent, and each
receiver saw every message id (duplicates are only possible after an `after_send` crash, and
carry the same id, so the receiver's dedupe makes each alert arrive once)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.notifier.alerts import assess
from services.notifier.delivery.subscriptions import create_subscription
from services.notifier.faults import CRASH_EXIT_CODE
from services.notifier.scheduler import check
from services.notifier.statements.distribution import send_monthly_statements
from services.notifier.store import tables
from services.notifier.store.migrate import upgrade
from shared.calendar import london_date
from shared.settings import KafkaSettings
from shared.sql import begin_write, make_engine
from tests.reliability import oracle
from tests.support.clock import TEST_TODAY, MovableClock, RunningClock
from tests.support.kafka import running_relay, topic_size
from tests.support.notifier_run import applied_and_pending, consume_all
from tests.support.processes import fast_email, notifier_env, notifier_service
from tests.support.receivers import running_smtp_server, running_webhook_receiver
from tests.support.world import World

SEED = int(os.environ.get("BRIDGES_RELIABILITY_SEED", "20261126"))
# The calendar sweep runs this once per date with fewer crashes (a short run per date).
CRASHES = int(os.environ.get("BRIDGES_RELIABILITY_CRASHES", "20"))
TODAY = TEST_TODAY  # the notifier processes run on the test's clock too (BRIDGES_CLOCK_START)


def late_claims(world: World, clock: MovableClock, rng: random.Random, count: int) -> None:
    """Claims of tenant A submitted 35–70 days ago: approved, part paid, queried or waiting."""
    a = world.a
    for _ in range(count):
        clock.set(TODAY - timedelta(days=rng.randint(35, 70)))
        claim = world.submit(a, clock.today())
        clock.advance(rng.randint(0, 4))
        fate = rng.random()
        if fate < 0.5:
            claim = world.act(a, claim, "approve", "approver")
            if fate < 0.25:
                clock.advance(rng.randint(1, 10))
                world.pay(a, claim, claim["amount_pence"] // 2, clock.today())
        elif fate < 0.6:
            world.act(a, claim, "query", "approver", {"question": "Which ward?"})
    clock.set(TODAY)


def run_notifier(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = notifier_service(env, log).start().process
    assert process is not None
    return process


def settled(engine: Any, expected_events: int) -> bool:
    processed, pending = applied_and_pending(engine)
    return processed >= expected_events and pending == 0


def as_at_pass(engine: Any, now: Any) -> None:
    """What the notifier's tick does as at `now`'s London day: every rule, and (on the first
    working day of a month) last month's statements with their `statement_ready` alerts."""
    day = london_date(now)
    check(engine, day, now)
    with begin_write(engine) as connection:
        send_monthly_statements(connection, day, now)


def identities(engine: Any) -> Counter[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(tables.alerts.c.subject_id, tables.alerts.c.kind, tables.alerts.c.level)
        ).all()
    return Counter((r.subject_id, r.kind, r.level) for r in rows)


def test_alerts_are_raised_and_delivered_once_through_twenty_crashes(
    tmp_path: Path, sqlite_url: str, kafka_settings: KafkaSettings, events_topic: str
) -> None:
    from services.ledger.api.app import create_app
    from shared.settings import LedgerSettings
    from tests.support.world import ApiClient, build_world

    rng = random.Random(SEED)
    now = RunningClock()  # the notifiers' clock: started at the test's now, running forward
    print(f"seed={SEED} now={now().isoformat()}")
    clock = MovableClock(TODAY - timedelta(days=80))
    app = create_app(LedgerSettings(database_url=sqlite_url), clock=clock, testing=True)
    world = build_world(
        ApiClient(app.test_client()), app.extensions["bridges.ledger"], clock.today()
    )
    late_claims(world, clock, rng, 12)

    notifier_url = f"sqlite:///{tmp_path / 'notifier.db'}"
    upgrade(notifier_url)
    engine = make_engine(notifier_url)
    with running_smtp_server() as smtp, running_webhook_receiver() as hooks:
        with begin_write(engine) as connection:
            create_subscription(
                connection,
                organisation_id=world.a.payee_id,
                created_by=world.a.person_ids["vcse_admin"],
                channel="webhook",
                target=hooks.url,
                now=now(),
                allow_loopback=True,
            )
        env = notifier_env(
            kafka_settings,
            notifier_url,
            f"crash-{uuid.uuid4().hex[:8]}",
            keys_url=sqlite_url,
            **fast_email(smtp.port),
            BRIDGES_NOTIFIER_BATCH_SIZE="15",
            BRIDGES_NOTIFIER_INSTANCE_ID="notifier-under-test",
            BRIDGES_WEBHOOK_ALLOW_LOOPBACK="true",
            BRIDGES_NOTIFIER_CRASH="mid_batch,before_commit,after_commit,after_send:0.08",
        )
        log = tmp_path / "notifier.log"
        crashes: Counter[str] = Counter()
        with running_relay(sqlite_url, kafka_settings) as relay:
            relay.wait_caught_up()
            deadline = time.monotonic() + 420
            for run in range(CRASHES):
                assert time.monotonic() < deadline, f"too slow; crashes so far {crashes}"
                if run == CRASHES // 2:
                    late_claims(world, clock, rng, 6)  # a second wave arrives mid-run
                    relay.wait_caught_up()
                env["BRIDGES_NOTIFIER_CRASH_SEED"] = str(rng.randrange(1 << 30))
                process = run_notifier({**env, **now.env()}, log)
                try:
                    code = process.wait(timeout=rng.uniform(3, 8))
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)  # no crash point reached yet: kill -9
                    process.wait()
                    code = -9
                crashes[f"exit {code}"] += 1
            relay.wait_caught_up()
            expected = topic_size(kafka_settings.bootstrap_servers, events_topic)
            # The last run without faults: it must finish the work the crashes left.
            env.pop("BRIDGES_NOTIFIER_CRASH")
            process = run_notifier({**env, **now.env()}, log)
            try:
                while not settled(engine, expected):
                    assert time.monotonic() < deadline + 120, "the notifier never settled"
                    assert process.poll() is None, log.read_text()[-3000:]
                    time.sleep(0.5)
                time.sleep(1.5)  # one more tick: nothing new may appear
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)

        # The reference: a clean consumer of the same topic, then the same rule check.
        reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
        upgrade(reference_url)
        reference = make_engine(reference_url)
        consume_all(reference, kafka_settings, clock=now, ledger_url=sqlite_url)
        as_at_pass(reference, now())
        as_at_pass(engine, now())  # the same as-at pass on the crashed one

        # Small batches and ticks let the crashed notifier see states a big batch skips (a
        # claim overdue just before its query arrives): those alerts are right too. A second
        # reference evaluates every rule after every single event, seeing every such state.
        fine_url = f"sqlite:///{tmp_path / 'every-event.db'}"
        upgrade(fine_url)
        every_event = make_engine(fine_url)
        consume_all(
            every_event,
            kafka_settings,
            max_records=1,
            after_batch=lambda connection, _claims, day, at: assess(connection, day, at),
            clock=now,
            ledger_url=sqlite_url,
        )
        as_at_pass(every_event, now())

        raised = identities(engine)
        expected_alerts = identities(reference)
        possible = set(expected_alerts) | set(identities(every_event))
        duplicated = sum(n - 1 for n in raised.values() if n > 1)
        missing = set(expected_alerts) - set(raised)
        extra = set(raised) - possible

        with engine.connect() as connection:
            deliveries = connection.execute(
                select(
                    tables.deliveries.c.channel,
                    tables.deliveries.c.message_id,
                    tables.deliveries.c.status,
                )
            ).all()
        queued = {(d.channel, d.message_id) for d in deliveries}
        unsent = [d for d in deliveries if d.status != "sent"]
        got_email = Counter(
            r.message["Message-ID"].strip("<>").split("@")[0] for r in smtp.inbox.accepted
        )
        got_hooks = Counter(h.headers["webhook-id"] for h in hooks.hits if h.status == 200)
        received = {("email", m) for m in got_email} | {("webhook", m) for m in got_hooks}
        receiver_duplicates = sum(n - 1 for n in (got_email + got_hooks).values() if n > 1)
        verdict = oracle.check(
            None,
            app.extensions["bridges.ledger"].store,
            seed=SEED,
            today=TODAY,
            kafka=kafka_settings,
            notifier=oracle.Notifier(engine, oracle.received_message_ids(smtp, hooks)),
            workdir=tmp_path,
            label=f"notifier crashed {sum(crashes.values())}x",
        )

    print(
        f"crashes={sum(crashes.values())} {dict(crashes)} events={expected} "
        f"alerts={len(raised)} alerts_dup={duplicated} missing={len(missing)} "
        f"extra={len(extra)} deliveries={len(queued)} received={len(received)} "
        f"receiver_duplicates={receiver_duplicates}"
    )
    verdict.assert_passed()
    assert sum(crashes.values()) >= CRASHES
    assert crashes[f"exit {CRASH_EXIT_CODE}"] >= CRASHES // 4, crashes
    assert raised, "the run raised alerts"
    assert duplicated == 0
    assert not missing, missing
    assert not extra, extra
    assert not unsent, unsent
    assert received == queued, (queued - received, received - queued)
