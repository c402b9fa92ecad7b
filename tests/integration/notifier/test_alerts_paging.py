"""Paging the alert feed through the API, filtered by partnership: every page is full until
the last, the last has no cursor, no alert is skipped or repeated, and nobody ever sees
another tenant's alerts — however the other partnerships' alerts are interleaved."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import insert

from services.notifier.api.app import create_app
from services.notifier.settings import NotifierSettings
from services.notifier.store import tables
from shared.sql import begin_write, make_engine
from shared.tokens import issue_token, token_key

NOW = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)
PAYER = "00000000-0000-4000-8000-0000000000a1"  # an ICB in two partnerships
FINANCE = "00000000-0000-4000-8000-0000000000f1"
VIEWER = "00000000-0000-4000-8000-0000000000f2"  # the ICB's partner viewer: P1 and P2
OUTSIDER_ORG = "00000000-0000-4000-8000-0000000000b1"
P1, P2, P3 = "p1-north", "p2-south", "p3-elsewhere"  # the ICB is in P1 and P2, not P3
PAGE = 5


def _seed(url: str) -> dict[str, list[str]]:
    """32 alerts, newest first: P1's every fourth (8 in all), P2's and P3's in between; two
    pairs share a raised_at instant, so the cursor's tie-break is exercised."""
    engine = make_engine(url)
    ids: dict[str, list[str]] = {P1: [], P2: [], P3: []}
    rows: list[dict[str, Any]] = []
    for n in range(32):
        partnership = P1 if n % 4 == 0 else (P2 if n % 4 in (1, 2) else P3)
        raised_at = NOW - timedelta(minutes=n - (1 if n in (5, 9) else 0))
        payer = PAYER if partnership != P3 else OUTSIDER_ORG
        alert_id = str(uuid.UUID(int=n + 1))
        ids[partnership].append(alert_id)
        rows.append(
            {
                "id": alert_id,
                "subject_id": f"claim:{n}",
                "kind": "payment_overdue",
                "level": "1",
                "partnership_id": partnership,
                "payer_id": payer,
                "payee_id": "vcse-" + partnership,
                "claim_id": f"claim-{n}",
                "agreement_id": None,
                "raised_on": date(2026, 5, 11),
                "raised_at": raised_at,
                "status": "open",
                "title": f"Alert {n}",
                "detail": {},
            }
        )
    with begin_write(engine) as connection:
        connection.execute(
            insert(tables.organisations),
            [
                {"id": PAYER, "name": "North ICB", "kind": "statutory"},
                {"id": OUTSIDER_ORG, "name": "Elsewhere ICB", "kind": "statutory"},
            ],
        )
        connection.execute(
            insert(tables.people),
            [
                {
                    "id": FINANCE,
                    "organisation_id": PAYER,
                    "name": "Fin",
                    "email": "fin@icb.example",
                    "roles": ["finance"],
                },
                {
                    "id": VIEWER,
                    "organisation_id": PAYER,
                    "name": "View",
                    "email": "view@icb.example",
                    "roles": ["partner_viewer"],
                },
            ],
        )
        connection.execute(
            insert(tables.partnership_members),
            [
                {"partnership_id": P1, "organisation_id": PAYER},
                {"partnership_id": P2, "organisation_id": PAYER},
                {"partnership_id": P3, "organisation_id": OUTSIDER_ORG},
            ],
        )
        connection.execute(insert(tables.alerts), rows)
    engine.dispose()
    return ids


def _walk(client: FlaskClient, token: str, query: str) -> list[list[dict[str, Any]]]:
    """Every page of the feed, following next_cursor; asserts that only the last lacks one."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        url = f"/api/v1/alerts?limit={PAGE}{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor does not move on"


def _assert_full_pages(pages: list[list[dict[str, Any]]], expected: list[str]) -> None:
    assert [len(page) for page in pages[:-1]] == [PAGE] * (len(pages) - 1)  # full until last
    assert 0 < len(pages[-1]) <= PAGE or expected == []
    seen = [alert["id"] for page in pages for alert in page]
    assert seen == expected  # newest first, none skipped, none repeated


def test_a_partnership_filter_pages_through_full_pages(notifier_url: str, tmp_path: Path) -> None:
    ids = _seed(notifier_url)
    app = create_app(
        NotifierSettings(database_url=notifier_url),
        clock=lambda: NOW,
        testing=True,
        var_dir=tmp_path,
    )
    client = app.test_client()
    key = token_key(tmp_path)
    finance = issue_token(FINANCE, key)

    pages = _walk(client, finance, f"&partnership_id={P1}")
    _assert_full_pages(pages, ids[P1])  # 8 alerts: a page of 5, then a last page of 3
    assert len(pages) == 2
    assert {alert["partnership_id"] for page in pages for alert in page} == {P1}

    # Unfiltered, the ICB sees both its partnerships (interleaved, by time) and never P3.
    everything = _walk(client, finance, "")
    mine = [alert["id"] for page in everything for alert in page]
    assert len(mine) == len(set(mine)) and set(mine) == set(ids[P1]) | set(ids[P2])
    _assert_full_pages(everything, mine)
    assert {alert["partnership_id"] for page in everything for alert in page} == {P1, P2}

    # Another tenant's partnership, asked for by name: nothing, and no cursor to follow.
    assert _walk(client, finance, f"&partnership_id={P3}") == [[]]
    viewer = issue_token(VIEWER, key)
    assert _walk(client, viewer, f"&partnership_id={P3}") == [[]]
    viewer_pages = _walk(client, viewer, f"&partnership_id={P1}")
    _assert_full_pages(viewer_pages, ids[P1])
