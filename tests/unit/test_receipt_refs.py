"""Receipts travel in the claim's events as references (SHA-256, type, size), never bytes;
an expense without receipts is written exactly as before, so older events and older readers
see no change."""

from __future__ import annotations

import json
from datetime import date

import pytest

from services.ledger.domain.claim import submit_claim
from services.ledger.domain.errors import ValidationFailed
from shared.events.catalogue import from_data, to_data
from shared.events.types import ClaimSubmitted, ReceiptRef
from tests.unit.builders import ClaimStory, agreement, expense, line

D = date(2026, 4, 2)
TICKET = ReceiptRef("ab" * 32, "image/jpeg", 48213)
UPLOADS = {TICKET.sha256: TICKET}


def _submitted(expenses: list[dict[str, object]], uploads: dict[str, ReceiptRef]) -> ClaimSubmitted:
    return submit_claim(
        "c1", agreement(), [line()], expenses, submitted_by="amina", today=D, receipts=uploads
    )


def test_a_receipt_is_a_reference_in_the_event() -> None:
    event = _submitted([expense(receipts=[TICKET.sha256])], UPLOADS)
    event_type, version, data = to_data(event)
    assert (event_type, version) == ("ClaimSubmitted", 1)
    assert data["expenses"][0]["receipts"] == [
        {"sha256": TICKET.sha256, "media_type": "image/jpeg", "size_bytes": 48213}
    ]
    assert from_data(event_type, version, json.loads(json.dumps(data))) == event


def test_an_expense_without_receipts_is_written_as_before() -> None:
    event = _submitted([expense()], {})
    _, _, data = to_data(event)
    assert data["expenses"] == [
        {"category": "travel", "amount_pence": 1240, "description": "Bus fares"}
    ]
    loaded = from_data("ClaimSubmitted", 1, data)
    assert loaded.expenses[0].receipts == ()  # type: ignore[union-attr]


def test_only_uploads_may_be_named_and_each_once() -> None:
    with pytest.raises(ValidationFailed) as failed:
        _submitted([expense(receipts=["cd" * 32, TICKET.sha256, TICKET.sha256])], UPLOADS)
    assert failed.value.errors == {
        "expenses.0.receipts.0": ["no receipt with this id was uploaded"],
        "expenses.0.receipts.2": ["is attached twice"],
    }
    with pytest.raises(ValidationFailed) as too_many:
        _submitted([expense(receipts=[TICKET.sha256] * 11)], UPLOADS)
    assert "expenses.0.receipts" in too_many.value.errors


def test_the_claim_remembers_every_receipt_any_version_carried() -> None:
    story = ClaimStory(expenses=[expense()])
    assert story.claim.receipts_in_history == ()
    claim = story.claim
    amended = claim.amend(
        [line()],
        [expense(receipts=[TICKET.sha256])],
        agreement=story.agreement,
        by="amina",
        today=D,
        receipts=UPLOADS,
    )
    story.then(amended)
    story.then(
        story.claim.amend([line()], [expense()], agreement=story.agreement, by="amina", today=D)
    )
    assert story.claim.expenses[0].receipts == ()
    assert story.claim.receipts_in_history == (TICKET,)
