"""The wire contract: every event type survives stored event → Kafka record → typed event,
and anything else is reported with a reason, never crashed on."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.events.catalogue import (
    EventDecodeError,
    UnknownEventType,
    UnsupportedSchemaVersion,
    to_data,
)
from shared.events.envelope import StoredEvent
from shared.events.types import Event
from shared.events.wire import MalformedRecord, from_record, to_record
from tests.unit.test_catalogue import SAMPLES


def stored(event: Event, position: int = 7) -> StoredEvent:
    event_type, version, data = to_data(event)
    return StoredEvent(
        global_position=position,
        event_id=uuid.uuid4(),
        type=event_type,
        schema_version=version,
        stream_id="claim-c1",
        stream_version=3,
        partition_key="partnership-1",
        occurred_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        actor="person-1",
        correlation_id="req-1",
        causation_id=None,
        data=data,
    )


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_event_type_round_trips(event: Event) -> None:
    original = stored(event)
    record = to_record(original)
    assert record.key == b"partnership-1"
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == str(original.event_id).encode()
    assert headers["ce_type"] == f"uk.bridges.ledger.{original.type}.v1".encode()
    assert headers["ce_subject"] == b"claim-c1"
    assert headers["ce_globalposition"] == b"7"
    assert headers["ce_streamversion"] == b"3"
    assert headers["content-type"] == b"application/json"
    assert "ce_causationid" not in headers
    received = from_record(record.key, record.value, record.headers)
    assert received.event == event
    assert received.envelope == original


def _record(**changes: Any) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    record = to_record(stored(SAMPLES[0]))
    headers = dict(record.headers)
    value = changes.pop("value", record.value)
    for name, header in changes.items():
        if header is None:
            headers.pop(name)
        else:
            headers[name] = header
    return record.key, value, list(headers.items())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"value": b"{not json"}, "not JSON"),
        ({"value": b"[1, 2]"}, "not a JSON object"),
        ({"value": b'{"organisation_id": 1}'}, "malformed"),
        ({"ce_type": None}, "missing header ce_type"),
        ({"ce_type": b"com.example.Other.v1"}, "not a Bridges"),
        ({"ce_type": b"uk.bridges.ledger.ClaimApproved"}, "version suffix"),
        ({"ce_id": b"not-a-uuid"}, "UUID"),
        ({"ce_time": b"yesterday"}, "ISO 8601"),
        ({"ce_specversion": b"0.3"}, "specversion"),
        ({"ce_globalposition": b"-1"}, "positive integer"),
        ({"ce_subject": b"\xff\xfe"}, "UTF-8"),
    ],
)
def test_malformed_records_are_reported_with_a_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(EventDecodeError) as error:
        from_record(*_record(**changes))
    assert reason in str(error.value)


def test_unknown_types_and_future_versions_are_reported() -> None:
    with pytest.raises(UnknownEventType):
        from_record(*_record(ce_type=b"uk.bridges.ledger.ClaimTeleported.v1"))
    with pytest.raises(UnsupportedSchemaVersion):
        from_record(*_record(ce_type=f"uk.bridges.ledger.{type(SAMPLES[0]).__name__}.v9".encode()))


def test_a_truncated_body_is_malformed() -> None:
    key, value, headers = _record()
    with pytest.raises(MalformedRecord):
        from_record(key, value[: len(value) // 2], headers)
    assert json.loads(value)  # the untruncated body was fine


REJECTION = {"claim_id": "c1", "rejected_by": "u2", "rejected_on": "2026-04-02"}


@pytest.mark.parametrize(
    "reason",
    ["Out of scope", "line one\nline two", "NUL \u0000 here", "lone \ud800", "bidi \u202e42"],
)
@pytest.mark.parametrize("opened", [False, True])
def test_received_text_is_displayable_whether_the_body_or_the_opener_brought_it(
    reason: str, opened: bool
) -> None:
    """Text from before the text rules reads as displayable (U+FFFD), as shared/text.py shows it,
    whether it came in the body or out of a sealed field the opener opened."""
    record = to_record(stored(SAMPLES[15]))  # a ClaimRejected
    sent = {**REJECTION, "reason": "sealed" if opened else reason}
    body = json.dumps(sent).encode("utf-8", "surrogatepass")

    def opener(_type: str, data: Any) -> dict[str, Any]:
        return {**data, "reason": reason}

    received = from_record(record.key, body, record.headers, opener=opener if opened else None)
    shown = reason.replace("\u0000", "\ufffd").replace("\ud800", "\ufffd")
    shown = shown.replace("\u202e", "\ufffd")
    assert received.event.reason == shown  # type: ignore[attr-defined]
    assert received.envelope.data["reason"] == shown
