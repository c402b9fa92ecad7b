"""Sealing personal fields: a round trip, "erased" without the key, and no sealed value that
opens where it does not belong (another subject, tampered, or typed in by a user)."""

from __future__ import annotations

import json

import pytest

from shared.events import catalogue, personal
from shared.events.personal import ERASED, SealError, claim_subject, new_key
from shared.events.types import ClaimLine, ClaimSubmitted, ExpenseLine
from tests.unit.test_catalogue import SAMPLES

CLAIM = "5f0c2a4e-0000-4000-8000-000000000001"
OTHER = "5f0c2a4e-0000-4000-8000-000000000002"


def submitted(worker: str = "Amina Khan") -> tuple[str, dict[str, object]]:
    from datetime import date
    from decimal import Decimal

    day = date(2026, 4, 2)
    event = ClaimSubmitted(
        CLAIM,
        "a1",
        "p1",
        "o2",
        "o1",
        "u1",
        day,
        (ClaimLine(day, Decimal("2"), "meeting", worker, "Board with Amina", 5000, "hourly"),),
        (ExpenseLine("travel", 1240, "Bus fares"),),
        6240,
        day,
        day,
    )
    event_type, _, data = catalogue.to_data(event)
    return event_type, data


def test_sealed_fields_open_with_the_key_and_read_erased_without_it() -> None:
    event_type, data = submitted()
    key = new_key()
    sealed = personal.seal_data(event_type, data, key)
    text = json.dumps(sealed)
    assert "Amina" not in text and "Bus fares" not in text
    assert sealed["amount_pence"] == 6240 and sealed["lines"][0]["hours"] == "2"
    assert personal.sealed_subjects(text) == {claim_subject(CLAIM)}
    assert personal.open_data(event_type, sealed, {claim_subject(CLAIM): key}) == data
    erased = personal.open_data(event_type, sealed, {claim_subject(CLAIM): None})
    assert erased["lines"][0]["worker"] == ERASED
    assert erased["expenses"][0]["description"] == ERASED
    assert catalogue.from_data(event_type, 1, erased).amount_pence == 6240


def test_a_sealed_value_does_not_open_elsewhere_or_tampered() -> None:
    key = new_key()
    token = personal.seal_value(key, claim_subject(CLAIM), "Amina Khan")
    with pytest.raises(SealError):
        personal.open_value(key, claim_subject(OTHER), token)
    with pytest.raises(SealError):
        personal.open_value(new_key(), claim_subject(CLAIM), token)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with pytest.raises(SealError):
        personal.open_value(key, claim_subject(CLAIM), tampered)


def test_text_that_looks_sealed_is_sealed_again_and_reads_back_as_typed() -> None:
    key = new_key()
    forged = personal.seal_value(new_key(), claim_subject(CLAIM), "someone else's")
    event_type, data = submitted(worker=forged)
    sealed = personal.seal_data(event_type, data, key)
    opened = personal.open_data(event_type, sealed, {claim_subject(CLAIM): key})
    assert opened["lines"][0]["worker"] == forged


def test_legacy_sealing_seals_plaintext_once() -> None:
    event_type, data = submitted()
    key = new_key()
    once = personal.seal_legacy_data(event_type, data, key)
    assert personal.seal_legacy_data(event_type, once, key) == once
    assert personal.open_data(event_type, once, {claim_subject(CLAIM): key}) == data


def test_only_catalogued_personal_fields_are_sealed() -> None:
    for event in SAMPLES:
        event_type, _, data = catalogue.to_data(event)
        sealed = personal.seal_data(event_type, data, new_key())
        changed = {k for k in data if sealed[k] != data[k]}
        spec = personal.PERSONAL_FIELDS.get(event_type)
        top = {p.partition("[]")[0] for p in spec.paths} if spec else set()
        assert changed <= top, (event_type, changed)
