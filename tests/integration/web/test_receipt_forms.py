"""Receipts through the web forms, without JavaScript: a file chosen in an expense row is
kept (sniffed, stripped) on the first press, carried by the check page, attached to the
claim, and shown to the approver beside the line; refusals are errors on the row."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image

from services.ledger.api.app import create_app
from shared.settings import LedgerSettings
from tests.integration.web.conftest import Browser
from tests.support.clock import MovableClock
from tests.support.receipts import GPS_IFD, jpeg_with_gps
from tests.support.world import World


@pytest.fixture
def app(sqlite_url: str, clock: MovableClock, tmp_path: Path) -> Flask:
    settings = LedgerSettings(database_url=sqlite_url, var_dir=str(tmp_path))
    return create_app(settings, clock=clock, testing=True)


def claim_fields(world: World, day: Any) -> dict[str, Any]:
    return {
        "agreement_id": world.a.agreement_id,
        "lines-0-worked_on-day": str(day.day),
        "lines-0-worked_on-month": str(day.month),
        "lines-0-worked_on-year": str(day.year),
        "lines-0-hours": "2",
        "lines-0-activity": "meeting",
        "lines-0-worker": "Amina Khan",
        "lines-0-description": "Programme board",
        "expenses-0-category": "travel",
        "expenses-0-amount": "12.40",
        "expenses-0-description": "Bus fares",
    }


def test_a_receipt_goes_from_the_form_to_the_approvers_page(
    world: World, browser_for: Any, clock: MovableClock
) -> None:
    member: Browser = browser_for("vcse_member")
    fields = claim_fields(world, clock.today() - timedelta(days=1))
    photo = jpeg_with_gps()
    check = member.post(
        "/claims/new",
        {
            **fields,
            "expenses-0-receipt": (io.BytesIO(photo), "IMG_2041.jpg", "image/jpeg"),
            "action": "check",
        },
        form_page="/claims/new",
    )
    assert check.status_code == 200, check.get_data(as_text=True)[:2000]
    page = check.get_data(as_text=True)
    carried = re.search(r'name="expenses-0-receipt_ids" value="([0-9a-f]{64})"', page)
    assert carried, "the check page carries the receipt's id"
    assert "Receipt 1 for Bus fares (JPEG image" in page
    submission = re.search(r'name="submission_id" value="([0-9a-f]{32})"', page)
    assert submission
    done = member.post(
        "/claims/new",
        {
            **fields,
            "expenses-0-receipt_ids": carried.group(1),
            "submission_id": submission.group(1),
            "action": "submit",
        },
        form_page="/claims/new",
    )
    assert done.status_code == 302
    claim_page = done.headers["Location"]

    approver: Browser = browser_for("approver")
    shown = approver.text(claim_page)
    link = re.search(r'href="(/claims/[^"]+/receipts/([0-9a-f]{64}))"', shown)
    assert link and link.group(2) == carried.group(1)
    assert f'<img class="bridges-receipt-thumbnail" src="{link.group(1)}"' in shown
    image = approver.client.get(link.group(1))
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/jpeg"
    assert "sandbox" in image.headers["Content-Security-Policy"]
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert hashlib.sha256(image.data).hexdigest() == link.group(2)
    assert not Image.open(io.BytesIO(image.data)).getexif().get_ifd(GPS_IFD)

    # The other tenant's approver: the file does not exist for them.
    assert browser_for("approver", "b").client.get(link.group(1)).status_code == 404


def test_a_row_keeps_its_receipt_across_pages_until_removed(
    world: World, browser_for: Any, clock: MovableClock
) -> None:
    member: Browser = browser_for("vcse_member")
    fields = claim_fields(world, clock.today() - timedelta(days=1))
    added = member.post(
        "/claims/new",
        {
            **fields,
            "expenses-0-receipt": (io.BytesIO(jpeg_with_gps()), "IMG_2041.jpg", "image/jpeg"),
            "action": "add_expense",
        },
    )
    page = added.get_data(as_text=True)
    ids = re.search(r'name="expenses-0-receipt_ids" value="([0-9a-f]{64})"', page)
    assert ids and 'id="expenses-0-attached"' in page
    removed = member.post(
        "/claims/new",
        {**fields, "expenses-0-receipt_ids": ids.group(1), "action": "remove_receipts-expenses-0"},
    )
    assert 'name="expenses-0-receipt_ids" value=""' in removed.get_data(as_text=True)
    assert 'id="expenses-0-attached"' not in removed.get_data(as_text=True)


def test_a_file_that_is_not_a_receipt_is_an_error_on_its_row(
    world: World, browser_for: Any, clock: MovableClock
) -> None:
    member: Browser = browser_for("vcse_member")
    fields = claim_fields(world, clock.today() - timedelta(days=1))
    before = world.events_written()
    response = member.post(
        "/claims/new",
        {
            **fields,
            "expenses-0-receipt": (io.BytesIO(b"<svg onload=alert(1)>"), "r.jpg", "image/jpeg"),
            "action": "check",
        },
        form_page="/claims/new",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'href="#expenses-0-receipt"' in page
    assert "Expense 1 receipt was refused: the file is not a JPEG, PNG, HEIC or PDF" in page
    assert world.events_written() == before
