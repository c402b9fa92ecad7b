"""Emails and statements in each recipient's language: a person's own choice, else their
organisation's, else English (PreferredLanguageChosen, applied by the notifier's projection)."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Engine

from services.notifier.alerts import evaluate
from services.notifier.delivery.digest import send_digests
from services.notifier.settings import NotifierSettings
from shared.events.types import PreferredLanguageChosen
from shared.sql import begin_write
from tests.integration.notifier.alerts_world import NOW, PAYEE, NotifierWorld

SUBMITTED = date(2026, 3, 2)


def _payloads(world: NotifierWorld) -> dict[str, dict[str, str]]:
    rows = world.delivery_rows()
    return {
        row.recipient: (row.payload if isinstance(row.payload, dict) else json.loads(row.payload))
        for row in rows
        if row.channel == "email"
    }


def test_each_alert_email_is_in_its_recipients_language(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    # The charity chose Welsh; Amina, its admin, chose English for herself.
    world.feed(
        PreferredLanguageChosen(PAYEE, None, "cy"),
        PreferredLanguageChosen(PAYEE, "amina", "en"),
    )
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    with begin_write(notifier_engine) as connection:
        evaluate(connection, date(2026, 4, 16), NOW)
    payloads = _payloads(world)
    assert set(payloads) == {"amina@hope.example", "fin@icb.example", "sam@hope.example"}

    welsh = payloads["sam@hope.example"]["text"]
    assert "Heb ei dalu: £237.40" in welsh
    assert "Talu erbyn: 1 Ebr 2026" in welsh  # Welsh month names
    assert "Rydych yn cael hwn oherwydd bod eich sefydliad" in welsh
    assert '<html lang="cy">' in payloads["sam@hope.example"]["html"]
    # The alert's own title is Welsh too, made again from the alert's facts.
    subject = payloads["sam@hope.example"]["subject"]
    assert subject.startswith("[Bridges] Taliad yn hwyr: ")
    assert "£237.40, 15 diwrnod yn hwyr" in subject
    assert welsh.startswith(subject.removeprefix("[Bridges] "))
    assert '<h1 style="font-size:1.2em">Taliad yn hwyr: ' in payloads["sam@hope.example"]["html"]
    for english in ("amina@hope.example", "fin@icb.example"):
        text = payloads[english]["text"]
        assert "Outstanding: £237.40" in text and "Payment due: 1 Apr 2026" in text
        assert '<html lang="en">' in payloads[english]["html"]
        assert payloads[english]["subject"].startswith("[Bridges] Payment overdue: ")
        assert payloads[english]["subject"].endswith("£237.40, 15 days late")


def test_a_digest_is_in_its_recipients_language(notifier_engine: Engine) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup(budget_pence=None)
    world.subscribe(PAYEE, "email", "office@hope.example", digest=True)
    world.feed(PreferredLanguageChosen(PAYEE, "sam", "cy"))
    claim = world.submit(SUBMITTED)
    world.approve(claim, date(2026, 3, 5))
    with begin_write(notifier_engine) as connection:
        evaluate(connection, date(2026, 4, 16), NOW)
    settings = NotifierSettings(database_url="sqlite://", smtp_port=1, delivery_max_attempts=1)
    send_digests(notifier_engine, date(2026, 4, 16), NOW, settings)
    digests = {
        row.recipient: row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
        for row in world.delivery_rows()
        if row.alert_id is None
    }
    assert digests["sam@hope.example"]["subject"] == (
        "[Bridges] Crynodeb dyddiol ar gyfer 16 Ebr 2026: 1 eitem agored"
    )
    assert "- Taliad yn hwyr: " in digests["sam@hope.example"]["text"]
    assert "<li><span>Taliad yn hwyr: " in digests["sam@hope.example"]["html"]
    assert "- Payment overdue: " in digests["amina@hope.example"]["text"]
    assert digests["amina@hope.example"]["subject"] == (
        "[Bridges] Daily digest for 16 Apr 2026: 1 open item"
    )
    assert digests["office@hope.example"]["subject"].startswith("[Bridges] Daily digest")
