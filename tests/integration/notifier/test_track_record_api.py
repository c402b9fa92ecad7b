"""GET /api/v1/indicators/payers/{id}/track-record: the payer's last 90 days, the same for
both sides of a partnership and for its viewers; nobody else learns the payer exists."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from services.notifier.api.app import create_app
from services.notifier.settings import NotifierSettings
from shared.events.types import PersonAdded
from shared.tokens import issue_token, token_key
from tests.integration.notifier.alerts_world import (
    LEARNING,
    OTHER_PAYEE,
    PARTNERSHIP,
    PAYEE,
    PAYER,
    NotifierWorld,
)

TODAY = date(2026, 11, 18)


def test_both_sides_see_the_same_track_record(
    notifier_url: str, notifier_engine: Engine, tmp_path: Path
) -> None:
    world = NotifierWorld(notifier_engine)
    world.setup()
    on_time = world.submit(date(2026, 9, 1))
    world.approve(on_time, date(2026, 9, 3))
    world.pay(on_time, date(2026, 9, 21))
    late = world.submit(date(2026, 9, 10))
    world.approve(late, date(2026, 9, 12))
    world.pay(late, date(2026, 10, 30))
    world.submit(date(2026, 10, 1))  # never approved: late since 31 October
    # Tokens name people by UUID: one person per side and role.
    people = {
        name: str(uuid.uuid4()) for name in ("approver", "finance", "vcse", "viewer", "other")
    }
    world.feed(
        PersonAdded(people["approver"], PAYER, "Olu", "o@icb.example", ("approver",)),
        PersonAdded(people["finance"], PAYER, "Fran", "f@icb.example", ("finance",)),
        PersonAdded(people["vcse"], PAYEE, "Amina", "a@hope.example", ("vcse_member",)),
        PersonAdded(people["viewer"], LEARNING, "Pat", "p@learn.example", ("partner_viewer",)),
        PersonAdded(people["other"], OTHER_PAYEE, "Bea", "b@bridge.example", ("vcse_admin",)),
    )
    now = datetime.combine(TODAY, time(10), tzinfo=ZoneInfo("Europe/London"))
    app = create_app(
        NotifierSettings(database_url=notifier_url),
        clock=lambda: now,
        testing=True,
        var_dir=tmp_path,
    )
    client = app.test_client()
    key = token_key(tmp_path)
    path = f"/api/v1/indicators/payers/{PAYER}/track-record?partnership_id={PARTNERSHIP}"

    answers = {}
    for person in ("approver", "finance", "vcse", "viewer", "other"):
        bearer = {"Authorization": f"Bearer {issue_token(people[person], key)}"}
        response = client.get(path, headers=bearer)
        assert response.status_code == 200, (person, response.get_json())
        answers[person] = response.get_json()
    assert len({str(sorted(a.items())) for a in answers.values()}) == 1  # the same numbers
    record = answers["vcse"]
    assert record["window"] == {"start": "2026-08-21", "end": "2026-11-18"}
    assert (record["judged"], record["on_time"], record["on_time_percent"]) == (3, 1, 33.3)
    assert (record["paid"], record["median_days_to_pay"]) == (2, 35)
    assert record["unpaid_past_due"] == 1

    # The payer may ask without naming the partnership; a VCSE organisation may not.
    own = f"/api/v1/indicators/payers/{PAYER}/track-record"
    olu = {"Authorization": f"Bearer {issue_token(people['approver'], key)}"}
    assert client.get(own, headers=olu).status_code == 200
    amina = {"Authorization": f"Bearer {issue_token(people['vcse'], key)}"}
    assert client.get(own, headers=amina).status_code == 404
    # Not a payer, or a partnership the person is not in: 404, nothing said.
    not_payer = f"/api/v1/indicators/payers/{OTHER_PAYEE}/track-record?partnership_id={PARTNERSHIP}"
    assert client.get(not_payer, headers=amina).status_code == 404
    elsewhere = f"/api/v1/indicators/payers/{PAYER}/track-record?partnership_id=p-other"
    assert client.get(elsewhere, headers=amina).status_code == 404
    assert client.get(path).status_code == 401
