"""People's data in the ledger: the subject access export (API and CLI), retention with the
clock moved, erasure of events written before sealing, and the notifier's data key API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import insert, select

from services.cli import main
from services.ledger.api.app import create_app
from services.ledger.people import apply_retention, erase_person
from services.ledger.store.access_tables import idp_links, sign_ins
from services.ledger.store.data_keys import DataKeys
from services.ledger.store.tables import events
from shared.events.personal import ERASED, claim_subject
from shared.settings import LedgerSettings
from shared.tokens import NOTIFIER_SERVICE_ID, issue_token
from tests.integration.notifier_kafka.test_people_erasure import dump
from tests.support.clock import MovableClock
from tests.support.receivers import free_port
from tests.support.world import World


@pytest.fixture
def app(database_url: str, clock: MovableClock) -> Flask:
    # A notifier nobody runs: the export says it could not ask it.
    settings = LedgerSettings(
        database_url=database_url, notifier_url=f"http://127.0.0.1:{free_port()}"
    )
    return create_app(settings, clock=clock, testing=True)


def balances(world: World, day: str) -> Any:
    a = world.a
    return world.api.ok(
        "GET", f"/partnerships/{a.partnership_id}/balances?as_at={day}", a.tokens["finance"]
    )


def signed_in(world: World, person_id: str) -> None:
    """A sign-in through the organisation's IdP, as the sign-in pages record it."""
    now = world.ledger.clock()
    with world.ledger.store.unit_of_work() as uow:
        uow.connection.execute(
            insert(sign_ins).values(
                person_id=person_id, method="idp", issuer=ISSUER, address="192.0.2.7", at=now
            )
        )
        uow.connection.execute(
            insert(idp_links).values(
                person_id=person_id,
                issuer=ISSUER,
                subject="idp-subject-4471",
                roles=["vcse_member"],
                signed_in_at=now,
            )
        )


ISSUER = "https://login.example.org/tenant/v2.0"


def test_an_operator_exports_everything_held_about_a_person(world: World) -> None:
    a = world.a
    member = a.person_ids["vcse_member"]
    signed_in(world, member)
    claim = world.submit(a, world.ledger.today())
    world.act(a, claim, "query", "approver", {"question": "Which ward?"})
    response = world.api.get(f"/people/{member}/export", world.operator_token)
    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert document["person"]["email"] == "vcse_member.a@example.org"
    assert document["person"]["roles"] == ["vcse_member"]
    assert document["organisation"]["id"] == a.payee_id
    (exported,) = document["claims"]
    assert exported["id"] == claim["id"]
    submitted = exported["history"][0]["data"]
    assert submitted["lines"][0]["worker"] == "Amina Khan", "opened, not sealed"
    assert exported["history"][1]["data"]["question"] == "Which ward?"
    assert [x["type"] for x in document["actions"]] == ["ClaimSubmitted"]
    assert document["api_tokens"] and "token_hash" not in json.dumps(document)
    assert [(x["method"], x["address"]) for x in document["sign_ins"]] == [("idp", "192.0.2.7")]
    assert document["identity_provider_link"][0]["subject"] == "idp-subject-4471"
    assert document["alerts_sent"]["available"] is False
    again = world.api.ok("GET", f"/people/{member}/export", world.operator_token)
    (recorded,) = again["exports_of_their_data"]
    assert recorded["action"] == "export" and recorded["organisation_id"] == a.payee_id

    assert world.api.get(f"/people/{member}/export", a.tokens["vcse_admin"]).status_code == 403
    missing = world.api.get("/people/no-such-person/export", world.operator_token)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")


def test_the_export_command_writes_the_file_and_shows_an_erasure(
    world: World, database_url: str, tmp_path: Path
) -> None:
    a = world.a
    claim = world.submit(a, world.ledger.today())
    out = tmp_path / "person.json"
    args = ["people", "export", "--person", "VCSE_MEMBER.A@example.org", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    before = json.loads(out.read_text())
    assert before["claims"][0]["id"] == claim["id"]
    assert before["alerts_sent"] is None, "no notifier database given"

    signed_in(world, a.person_ids["vcse_member"])
    erase_person(world.ledger, None, a.person_ids["vcse_member"])
    gone = CliRunner().invoke(main, [*args, "--database-url", database_url])
    assert gone.exit_code != 0 and "no person" in gone.output, "the email is erased too"
    by_id = ["people", "export", "--person", a.person_ids["vcse_member"], "--out", str(out)]
    result = CliRunner().invoke(main, [*by_id, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    after = json.loads(out.read_text())
    assert after["person"]["name"] == ERASED
    assert after["claims"][0]["history"][0]["data"]["lines"][0]["worker"] == ERASED
    assert {e["reason"] for e in after["erased"]} == {"request"}
    assert [x["address"] for x in after["sign_ins"]] == [None], "when and how stay; not where"
    assert after["identity_provider_link"] == []
    assert [x["resource"] for x in after["exports_of_their_data"]] == ["person"], "audited"


def test_retention_erases_closed_claims_once_their_period_has_passed(
    world: World, clock: MovableClock, database_url: str
) -> None:
    a = world.a
    paid = world.submit(a, clock.today())
    rejected = world.submit(a, clock.today())
    still_open = world.submit(a, clock.today())
    clock.advance(2)
    paid = world.act(a, paid, "approve", "approver")
    world.act(a, rejected, "reject", "approver", {"reason": "Outside the programme"})
    world.pay(a, paid, paid["amount_pence"], clock.today())
    closed_on = clock.today()
    figures = {d: balances(world, d) for d in ("2026-11-30", "2027-06-30")}

    clock.advance(29)
    assert apply_retention(world.ledger, 30).claim_ids == []
    clock.advance(1)
    dry = apply_retention(world.ledger, 30, dry_run=True)
    assert sorted(dry.claim_ids) == sorted([paid["id"], rejected["id"]])
    with world.ledger.reading() as uow:
        assert not uow.data_keys.erased(claim_subject(c) for c in dry.claim_ids)
    done = apply_retention(world.ledger, 30)
    assert sorted(done.claim_ids) == sorted([paid["id"], rejected["id"]])
    assert apply_retention(world.ledger, 30).claim_ids == [], "once"

    token = a.tokens["finance"]
    for claim_id in (paid["id"], rejected["id"]):
        claim = world.api.ok("GET", f"/claims/{claim_id}", token)
        assert {line["description"] for line in claim["lines"]} == {ERASED}
        history = world.api.ok("GET", f"/claims/{claim_id}/history", token)["events"]
        assert "Outside the programme" not in json.dumps(history)
    kept = world.api.ok("GET", f"/claims/{still_open['id']}", token)
    assert kept["lines"][0]["worker"] == "Amina Khan"
    assert {d: balances(world, d) for d in figures} == figures
    with world.ledger.reading() as uow:
        (recorded,) = uow.connection.execute(
            select(events.c.data).where(events.c.type == "PersonalDataErased")
        ).scalars()
    assert recorded["reason"] == "retention" and recorded["erased_on"] > closed_on.isoformat()

    off = CliRunner().invoke(main, ["people", "retention", "--database-url", database_url])
    assert off.exit_code == 0 and "retention is off" in off.output


def legacy_history(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """A person and their claim stored the old way: personal fields in the clear."""
    a = world.a
    with monkeypatch.context() as legacy:
        legacy.setattr(DataKeys, "seal", lambda self, event, now: event)
        person = world.api.ok(
            "POST",
            f"/organisations/{a.payee_id}/people",
            world.operator_token,
            {"name": "Iris Legacy", "email": "iris.legacy@hope.example", "roles": ["vcse_member"]},
        )
        with world.ledger.store.unit_of_work() as uow:
            token = world.ledger.issue_token(uow, person["id"])
        body = world.claim_body(a, world.ledger.today())
        body["lines"][0]["worker"] = "Iris Legacy"
        claim = world.api.ok("POST", "/claims", token, body)
        world.act(a, claim, "query", "approver", {"question": "Was Iris Legacy alone there?"})
    return person, claim


def stored_events_text(world: World) -> str:
    with world.ledger.store.engine.connect() as connection:
        rows = connection.execute(select(events.c.data)).scalars()
        return json.dumps(list(rows)).casefold()


def test_erasure_seals_events_written_before_sealing_existed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, claim = legacy_history(world, monkeypatch)
    assert "iris legacy" in stored_events_text(world)
    before = balances(world, "2026-12-31")

    erasure = erase_person(world.ledger, world_operator(world), "iris.legacy@hope.example")
    assert erasure.legacy_events_sealed == 3
    text = dump(world.ledger.store.engine)
    assert "iris legacy" not in text and "iris.legacy@" not in text
    assert balances(world, "2026-12-31") == before
    shown = world.api.ok("GET", f"/claims/{claim['id']}", world.a.tokens["finance"])
    assert shown["lines"][0]["worker"] == ERASED
    again = erase_person(world.ledger, None, person["id"])
    assert again.already_erased == sorted(again.subjects) and not again.erasure_ids


def test_seal_legacy_seals_old_events_and_changes_nothing_they_say(
    world: World, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    _, claim = legacy_history(world, monkeypatch)
    token = world.a.tokens["finance"]
    shown = world.api.ok("GET", f"/claims/{claim['id']}/history", token)
    command = ["people", "seal-legacy", "--database-url", database_url]
    dry = CliRunner().invoke(main, [*command, "--dry-run"])
    assert dry.exit_code == 0 and json.loads(dry.output)["subjects"] == 2
    assert "iris legacy" in stored_events_text(world)
    done = CliRunner().invoke(main, command)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"subjects": 2, "events_sealed": 3}
    assert "iris legacy" not in stored_events_text(world)
    assert world.api.ok("GET", f"/claims/{claim['id']}/history", token) == shown
    again = CliRunner().invoke(main, command)
    assert json.loads(again.output) == {"subjects": 0, "events_sealed": 0}


def world_operator(world: World) -> Any:
    from services.ledger.api.auth import load_principal

    principal = load_principal(world.ledger.store.engine, world.operator_token)
    assert principal is not None and principal.is_operator
    return principal


def test_only_the_notifier_gets_data_keys(app: Flask, world: World) -> None:
    client = app.test_client()
    ledger = world.ledger
    claim = world.submit(world.a, ledger.today())
    subject = claim_subject(claim["id"])
    notifier = {"Authorization": f"Bearer {issue_token(NOTIFIER_SERVICE_ID, ledger.token_key)}"}
    url = "/internal/v1/data-keys"

    assert client.post(url, json={"subjects": [subject]}).status_code == 401
    person = {"Authorization": f"Bearer {world.a.tokens['finance']}"}
    assert client.post(url, json={"subjects": [subject]}, headers=person).status_code == 401
    forged = issue_token(NOTIFIER_SERVICE_ID, b"not the shared key")
    refused = client.post(
        url, json={"subjects": [subject]}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert refused.status_code == 401
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    for bad in ({}, {"subjects": []}, {"subjects": [1]}, {"subjects": ["x" * 81]}, [subject]):
        assert client.post(url, json=bad, headers=notifier).status_code == 400, bad
    answer = client.post(url, json={"subjects": [subject, "claim:unknown"]}, headers=notifier)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    keys = answer.get_json()["keys"]
    assert keys[subject] and keys["claim:unknown"] is None

    erase_person(ledger, None, world.a.person_ids["vcse_member"])
    after = client.post(url, json={"subjects": [subject]}, headers=notifier).get_json()
    assert after["keys"][subject] is None
    assert "/internal/v1/data-keys" not in json.dumps(app.test_client().get("/openapi.json").json)
