"""Text stored before the text rules (shared/text.py) existed: a lone surrogate, a NUL, other
C0/C1 controls and a bidirectional override already in a SQLite store, in the event log and the
views, and so in the notifier's read model. Pages, the API, CSV and PDF statements still answer,
and show each such character as the replacement character U+FFFD."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, select, text, update
from sqlalchemy.engine import Engine

from services.ledger.store.tables import data_keys
from services.ledger.store.views import people
from services.ledger.web.passwords import hash_password
from services.notifier.ops import rebuild_from_feed
from shared.events.personal import open_value
from tests.integration.web.conftest import PASSWORD, Browser
from tests.support.clock import MovableClock
from tests.support.two_services import TwoServices, two_services

MARK = "LEGACYTEXT"
# As JSON escapes (how the event log stores them) and as the characters they stand for.
LEGACY_JSON = "Amina \\ud800 Khan\\u0000\\u001b[31m\\u0085\\u202e"
LEGACY = json.loads(f'"{LEGACY_JSON}"')
# SQLite's driver cannot write a lone surrogate into a text column (only JSON escapes it), so
# the views hold the rest of it.
LEGACY_PLAIN = LEGACY.replace("\ud800", "")
SHOWN = "Khan\ufffd\ufffd[31m\ufffd\ufffd"  # in every rendering


_SEALED = re.compile(r"sealed:v1:((?:person|claim):[0-9a-f-]{36}):([A-Za-z0-9_-]+)")


def rewrite_text_columns(
    connection: Connection, containing: str, rewrite: Callable[[str], str]
) -> int:
    """`rewrite` every text value that contains `containing`, in every column of every table.
    The number of rows changed."""
    changed = 0
    for table in inspect(connection).get_table_names():
        for column in inspect(connection).get_columns(table):
            name = column["name"]
            rows = connection.execute(
                text(
                    f'SELECT rowid, "{name}" FROM "{table}" '  # noqa: S608
                    f'WHERE CAST("{name}" AS TEXT) LIKE :m'
                ),
                {"m": f"%{containing}%"},
            ).all()
            for rowid, value in rows:
                if isinstance(value, str):
                    connection.execute(
                        text(f'UPDATE "{table}" SET "{name}" = :v WHERE rowid = :r'),  # noqa: S608
                        {"v": rewrite(value), "r": rowid},
                    )
                    changed += 1
    return changed


def unseal_everywhere(engine: Engine) -> int:
    """Put every sealed personal field back in plaintext, in every text column: a store as a
    ledger from before sealing (migration 0006) wrote it. The number of rows changed."""
    with engine.begin() as connection:
        keys = dict(connection.execute(select(data_keys.c.subject, data_keys.c.key)).all())

        def opened(match: re.Match[str]) -> str:
            plain = open_value(keys[match.group(1)], match.group(1), match.group(0))
            return json.dumps(plain)[1:-1]  # as it sits inside a JSON string

        return rewrite_text_columns(connection, "sealed:v1:", lambda v: _SEALED.sub(opened, v))


def rewrite_everywhere(engine: Engine, old: str, new_json: str, new_text: str) -> int:
    """Replace `old` in every text column of every table: JSON columns get the escapes,
    plain text columns the characters themselves. The number of rows changed."""

    def replaced(value: str) -> str:
        is_json = value.lstrip().startswith(("{", "["))
        return value.replace(old, new_json if is_json else new_text)

    with engine.begin() as connection:
        return rewrite_text_columns(connection, old, replaced)


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TwoServices, dict]]:
    clock = MovableClock(date(2026, 11, 16))
    with two_services(Path(tmp_path_factory.mktemp("legacy")), clock) as s:
        w = s.world
        body = w.claim_body(w.a, clock.today())
        body["lines"][0]["worker"] = MARK
        body["lines"][1]["description"] = f"Board {MARK}"
        claim = w.api.ok("POST", "/claims", w.a.tokens["vcse_member"], body)
        approved = w.act(w.a, w.submit(w.a, clock.today()), "approve", "approver")
        w.api.ok(
            "POST",
            "/payments",
            w.a.tokens["finance"],
            {
                "payer_id": w.a.payer_id,
                "payee_id": w.a.payee_id,
                "paid_on": clock.today().isoformat(),
                "reference": MARK,
                "allocations": [{"claim_id": approved["id"], "amount_pence": 500}],
            },
        )
        store = w.ledger.store
        assert unseal_everywhere(store.engine) >= 2
        assert rewrite_everywhere(store.engine, MARK, LEGACY_JSON, LEGACY_PLAIN) >= 2
        rebuild_from_feed(s.notifier_engine, store.read_feed, now=lambda: clock.now)
        with store.engine.begin() as connection:
            connection.execute(
                update(people)
                .where(people.c.email == "vcse_member.a@example.org")
                .values(password_hash=hash_password(PASSWORD))
            )
        yield s, claim


def test_the_stored_text_really_is_legacy(legacy: tuple[TwoServices, dict]) -> None:
    s, claim = legacy
    stored = s.world.ledger.store.read_stream(f"claim-{claim['id']}")[0].data
    assert stored["lines"][0]["worker"] == LEGACY


def test_the_claim_pages_render_with_replacement_characters(
    legacy: tuple[TwoServices, dict],
) -> None:
    s, claim = legacy
    browser = Browser(s.ledger.test_client())
    assert browser.sign_in("vcse_member.a@example.org").status_code == 302
    for path in (f"/claims/{claim['id']}", "/claims", f"/claims/{claim['id']}/withdraw"):
        response = browser.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        page = response.get_data(as_text=True)
        if path == f"/claims/{claim['id']}":
            assert SHOWN in page, path
        assert "\x00" not in page and "\x1b" not in page and "\u202e" not in page


def test_the_api_answers_the_claim(legacy: tuple[TwoServices, dict]) -> None:
    s, claim = legacy
    response = s.world.api.get(f"/claims/{claim['id']}", s.world.a.tokens["vcse_member"])
    assert response.status_code == 200
    response.get_data().decode("utf-8")  # valid UTF-8 throughout
    assert SHOWN in response.get_json()["lines"][0]["worker"]


@pytest.mark.parametrize("fmt", ["csv", "pdf", "json"])
def test_statements_render_with_replacement_characters(
    legacy: tuple[TwoServices, dict], fmt: str
) -> None:
    s, claim = legacy
    a = s.world.a
    response = s.notifier.test_client().get(
        f"/api/v1/statements/{a.partnership_id}/{a.payee_id}/{a.payer_id}",
        query_string={
            "format": fmt,
            "kind": "activity",
            "start": "2026-11-01",
            "end": "2026-11-30",
        },
        headers={"Authorization": f"Bearer {a.tokens['vcse_member']}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if fmt != "pdf":
        content = response.get_data().decode("utf-8")
        assert "\x00" not in content and "\u202e" not in content
        assert SHOWN in (
            content if fmt == "csv" else json.dumps(response.get_json(), ensure_ascii=False)
        )
