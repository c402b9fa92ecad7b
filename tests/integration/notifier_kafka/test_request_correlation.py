"""One request id, followed end to end: the `X-Request-ID` of the POST that approved a claim
becomes the events' correlation id in the ledger, travels on the topic, and the notifier logs
it when the alert that approval causes is raised and delivered, and sends it with the
delivery: the webhook's `X-Correlation-ID` header and `correlation_id` in its body, the
email's `X-Correlation-ID` header (real receivers, tests/support/receivers.py)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from structlog.testing import capture_logs

from services.ledger.api.app import create_app
from services.notifier.delivery import dispatch_due
from services.notifier.delivery.subscriptions import create_subscription
from services.notifier.settings import NotifierSettings
from services.notifier.store.migrate import upgrade as upgrade_notifier
from shared.settings import KafkaSettings, LedgerSettings
from shared.sql import begin_write, make_engine
from tests.support.clock import TEST_TODAY, MovableClock, RunningClock
from tests.support.kafka import running_relay
from tests.support.notifier_run import consume_all
from tests.support.receivers import running_smtp_server, running_webhook_receiver
from tests.support.world import ApiClient, build_world

REQUEST_ID = "support-call-4711"


def test_a_request_id_reaches_the_notifiers_logs_and_deliveries(
    sqlite_url: str, empty_sqlite_url: str, kafka_settings: KafkaSettings, events_topic: str
) -> None:
    notifier_url = empty_sqlite_url  # one backend is enough: nothing here is SQL-specific
    upgrade_notifier(notifier_url)
    start = TEST_TODAY - timedelta(days=75)  # approved 75 days ago: the payment is overdue
    ledger_clock = MovableClock(start)
    app = create_app(LedgerSettings(database_url=sqlite_url), clock=ledger_clock, testing=True)
    world = build_world(ApiClient(app.test_client()), app.extensions["bridges.ledger"], start)
    tenant = world.a
    notifier = make_engine(notifier_url)
    clock = RunningClock()

    def deliver_events() -> None:
        with running_relay(sqlite_url, kafka_settings) as relay:
            relay.wait_caught_up()
        consume_all(notifier, kafka_settings, group="notifier", clock=clock)

    deliver_events()  # the notifier knows the organisations
    with running_webhook_receiver() as hooks, running_smtp_server() as smtp:
        with begin_write(notifier) as connection:
            for channel, target in (("webhook", hooks.url), ("email", "alerts@hope.example")):
                create_subscription(
                    connection,
                    organisation_id=tenant.payee_id,
                    created_by=tenant.person_ids["vcse_admin"],
                    channel=channel,
                    target=target,
                    now=clock(),
                    allow_loopback=True,
                    kinds=["payment_overdue"],
                )
        claim = world.submit(tenant, start)
        approved = world.api.post(
            f"/claims/{claim['id']}/approve",
            tenant.tokens["approver"],
            {},
            headers={"If-Match": f'"{claim["version"]}"', "X-Request-ID": REQUEST_ID},
        )
        assert approved.status_code == 200, approved.get_json()
        assert approved.headers["X-Request-ID"] == REQUEST_ID

        with capture_logs() as logs:
            deliver_events()
            settings = dataclasses.replace(
                NotifierSettings(database_url=notifier_url),
                smtp_port=smtp.port,
                webhook_allow_loopback=True,
            )
            counts = dispatch_due(notifier, clock(), settings)
        assert counts.failed == counts.retried == 0 and counts.sent >= 2, counts

    raised = [line for line in logs if line["event"] == "alert raised"]
    assert [(line["kind"], line["correlation_id"]) for line in raised] == [
        ("payment_overdue", REQUEST_ID)
    ], raised
    # Every delivery of that alert: the subscriptions' and the people's own emails.
    sent = [line for line in logs if line["event"] == "delivery sent"]
    assert len(sent) == counts.sent
    assert {line["correlation_id"] for line in sent} == {REQUEST_ID}
    assert {line["channel"] for line in sent} == {"email", "webhook"}

    [hit] = hooks.hits
    assert hit.headers["x-correlation-id"] == REQUEST_ID
    body = json.loads(hit.body)
    assert body["correlation_id"] == REQUEST_ID and body["data"]["kind"] == "payment_overdue"
    [mail] = [m for m in smtp.inbox.accepted if m.rcpt_tos == ["alerts@hope.example"]]
    assert mail.message["X-Correlation-ID"] == REQUEST_ID
    notifier.dispose()
