"""Erasure end to end: a person's name, email and the text that names them, written through the
ledger, relayed to real Kafka and opened by the notifier with keys from the ledger's internal
HTTP API, are unreadable after `bridges people erase` in the ledger's database, in the topic
read from offset 0, in the notifier's database, in statements and in the emails then sent (to
a real SMTP server). Every figure is the same before and after."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import Engine, MetaData, select
from werkzeug.serving import make_server

from services.cli import main
from services.ledger.api.app import create_app as create_ledger
from services.notifier.api.app import create_app as create_notifier
from services.notifier.delivery import dispatch_due
from services.notifier.keys import HttpKeySource, KeyRing
from services.notifier.settings import NotifierSettings
from services.notifier.store import tables
from shared.settings import KafkaSettings, LedgerSettings
from shared.sql import make_engine
from tests.support.clock import TEST_NOW, TEST_TODAY, MovableClock, RunningClock
from tests.support.kafka import read_topic, running_relay
from tests.support.notifier_run import consume_all
from tests.support.receivers import free_port, running_smtp_server
from tests.support.world import ApiClient, World, build_world

START = TEST_TODAY - timedelta(days=40)
NAME = "Zelda Quist"
EMAIL = "zelda.quist@hope.example"
QUESTION = "Did Zelda Quist lead the workshop on her own?"
# What must be unreadable everywhere once she is erased (none is base64: spaces, dots, @).
NEEDLES = ("zelda quist", "zelda.quist@", "lead the workshop on her own")


def dump(engine: Engine) -> str:
    """Every row of every table, as text, lower-cased."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = [
            json.dumps([table.name, *row], default=str)
            for table in metadata.sorted_tables
            for row in connection.execute(select(table))
        ]
    return "\n".join(rows).casefold()


def unreadable(text: str, where: str) -> None:
    for needle in NEEDLES:
        assert needle not in text.casefold(), f"{needle!r} is readable in {where}"


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The ledger's WSGI app on a real loopback HTTP port."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def history(world: World, clock: MovableClock) -> dict[str, Any]:
    """Zelda's two claims (one queried about her, one approved and part paid) and a
    colleague's claim naming her as the worker; another claim that does not."""
    a, api = world.a, world.api
    zelda = api.ok(
        "POST",
        f"/organisations/{a.payee_id}/people",
        world.operator_token,
        {"name": NAME, "email": EMAIL, "roles": ["vcse_member"]},
    )
    with world.ledger.store.unit_of_work() as uow:
        token = world.ledger.issue_token(uow, zelda["id"])
    body = world.claim_body(a, START)
    body["lines"][0]["worker"] = NAME
    queried = api.ok("POST", "/claims", token, body)
    paid = api.ok("POST", "/claims", token, world.claim_body(a, START))
    colleague_body = world.claim_body(a, START)
    colleague_body["lines"][1]["description"] = f"Board, minutes by {NAME}"
    named = api.ok("POST", "/claims", a.tokens["vcse_member"], colleague_body)
    other = world.submit(a, START)
    clock.advance(1)
    world.act(a, queried, "query", "approver", {"question": QUESTION})
    paid = world.act(a, paid, "approve", "approver", {"amount_pence": 9000, "reason": "Receipts"})
    clock.advance(5)
    world.pay(a, paid, 4000, clock.today())
    return {"zelda": zelda, "claims": [queried, paid, named], "other": other, "token": token}


def figures(world: World, notifier: Any) -> dict[str, Any]:
    a = world.a
    viewer = {"Authorization": f"Bearer {a.tokens['partner_viewer']}"}
    found: dict[str, Any] = {}
    for offset in (0, 30):
        day = (TEST_TODAY + timedelta(days=offset)).isoformat()
        found[f"balances {day}"] = world.api.ok(
            "GET", f"/partnerships/{a.partnership_id}/balances?as_at={day}", a.tokens["finance"]
        )
        statement = notifier.get(
            f"/api/v1/statements/{a.partnership_id}/{a.payee_id}/{a.payer_id}?as_at={day}",
            headers=viewer,
        ).get_json()
        found[f"statement {day}"] = statement["totals"]
    indicators = notifier.get(f"/api/v1/indicators/partnerships/{a.partnership_id}", headers=viewer)
    found["indicators"] = indicators.get_json()["figures"]
    return found


def statements_text(world: World, notifier: Any) -> str:
    a = world.a
    headers = {"Authorization": f"Bearer {a.tokens['finance']}"}
    path = f"/api/v1/statements/{a.partnership_id}/{a.payee_id}/{a.payer_id}"
    parts = []
    for query in (
        "",
        "?format=csv",
        f"?kind=activity&start={START.isoformat()}&end={TEST_TODAY.isoformat()}&format=csv",
    ):
        response = notifier.get(path + query, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        parts.append(response.get_data(as_text=True))
    pdf = notifier.get(path + "?format=pdf", headers=headers)
    parts += [page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages]
    return "\n".join(parts)


def test_an_erased_person_is_unreadable_everywhere_and_the_figures_stay(
    sqlite_url: str, notifier_url: str, kafka_settings: KafkaSettings, events_topic: str
) -> None:
    clock = MovableClock(START)
    app = create_ledger(LedgerSettings(database_url=sqlite_url), clock=clock, testing=True)
    ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, START)
    made = history(world, clock)
    engine = make_engine(notifier_url)
    notifier = create_notifier(
        NotifierSettings(database_url=notifier_url), clock=RunningClock(), testing=True
    ).test_client()

    with serving(app) as ledger_url:
        keys = KeyRing(HttpKeySource(ledger_url, ledger.token_key), max_size=50)
        with running_relay(sqlite_url, kafka_settings) as relay:
            relay.wait_caught_up()
        consume_all(engine, kafka_settings, group="notifier", keys=keys, clock=lambda: TEST_NOW)

        # The notifier opened the sealed fields: her name, and the question in a queued email.
        with engine.connect() as connection:
            assert (
                connection.execute(
                    select(tables.people.c.name).where(tables.people.c.id == made["zelda"]["id"])
                ).scalar_one()
                == NAME
            )
        assert QUESTION.casefold() in dump(engine)
        # ...while the topic never held them in the clear.
        records = read_topic(kafka_settings.bootstrap_servers, events_topic)
        topic_before = "\n".join((r.value or b"").decode() + repr(r.headers) for r in records)
        unreadable(topic_before, "the topic before the erasure")
        assert "sealed:v1:person:" in topic_before
        before = figures(world, notifier)

        runner = CliRunner()
        dry = runner.invoke(
            main, ["people", "erase", "--person", EMAIL, "--dry-run", "--database-url", sqlite_url]
        )
        assert dry.exit_code == 0, dry.output
        plan = json.loads(dry.output)
        erased_claims = sorted(c["id"] for c in made["claims"])
        assert sorted(plan["claim_ids"]) == erased_claims
        assert made["other"]["id"] not in plan["claim_ids"]
        assert NAME.casefold() in dump(make_engine(sqlite_url)), "a dry run changes nothing"

        done = runner.invoke(
            main, ["people", "erase", "--person", EMAIL, "--database-url", sqlite_url]
        )
        assert done.exit_code == 0, done.output
        assert json.loads(done.output)["erasure_ids"]
        with running_relay(sqlite_url, kafka_settings) as relay:
            relay.wait_caught_up()
        consume_all(engine, kafka_settings, group="notifier", keys=keys, clock=lambda: TEST_NOW)

        with running_smtp_server() as smtp:
            settings = dataclasses.replace(
                NotifierSettings(database_url=notifier_url), smtp_port=smtp.port, delivery_jitter=0
            )
            sent = dispatch_due(engine, TEST_NOW, settings)
            messages = [item.message.as_string() for item in smtp.inbox.accepted]
        assert sent.sent and messages, "the colleagues' emails still go out"
        unreadable("\n".join(messages), "the emails sent after the erasure")

        unreadable(dump(make_engine(sqlite_url)), "the ledger's database")
        unreadable(dump(engine), "the notifier's database")
        records = read_topic(kafka_settings.bootstrap_servers, events_topic)
        unreadable(
            "\n".join((r.value or b"").decode() + repr(r.headers) for r in records),
            "the topic from offset 0",
        )
        unreadable(statements_text(world, notifier), "the statements")

        # A replay of the whole topic into an empty read model reads "erased", not her name.
        replayed = make_engine(notifier_url)
        from services.notifier.rebuild import clear_read_model

        clear_read_model(replayed)
        consume_all(
            replayed,
            kafka_settings,
            keys=KeyRing(HttpKeySource(ledger_url, ledger.token_key)),
            after_batch=None,
        )
        unreadable(dump(replayed), "a read model rebuilt from the topic")
        assert figures(world, notifier) == before

    # The ledger shows what is kept: amounts and dates, "erased" for the free text.
    claim = world.api.ok("GET", f"/claims/{made['claims'][1]['id']}", world.a.tokens["finance"])
    assert {line["worker"] for line in claim["lines"]} == {"erased"}
    assert claim["approved_pence"] == 9000 and claim["paid_pence"] == 4000
    kept = world.api.ok("GET", f"/claims/{made['other']['id']}", world.a.tokens["finance"])
    assert {line["worker"] for line in kept["lines"]} == {"Amina Khan"}
    # Her tokens died with her name; an erased claim takes no new free text.
    assert world.api.get("/claims", made["token"]).status_code == 401
    refused = world.api.post(
        f"/claims/{made['claims'][0]['id']}/answer",
        world.a.tokens["vcse_member"],
        {"answer": "Yes"},
        headers={"If-Match": '"2"'},
    )
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["type"].endswith("personal-data-erased")
    # ...but every decision without free text still works: figures go on.
    approved = world.api.post(
        f"/claims/{made['claims'][2]['id']}/approve",
        world.a.tokens["approver"],
        {},
        headers={"If-Match": '"1"'},
    )
    assert approved.status_code == 200, approved.get_json()
    # The notifier no longer lets a token signed for her in.
    zelda = {"Authorization": f"Bearer {made['token']}"}
    assert notifier.get("/api/v1/alerts", headers=zelda).status_code in (401, 403)
