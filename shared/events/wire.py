"""The wire contract between the services: a stored event as a Kafka record and back.

Records are CloudEvents 1.0 in Kafka binary mode: the attributes travel as `ce_*` headers and
the body is the event's JSON data. The key is the partition key (the partnership id for
claims, agreements and payments; the organisation id for organisations and people), so each
partnership's events stay in order on one partition.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..text import displayable_all, displayable_json
from .catalogue import EventDecodeError, from_data
from .envelope import StoredEvent
from .types import Event

SPEC_VERSION = "1.0"
SOURCE = "urn:bridges:ledger"
TYPE_PREFIX = "uk.bridges.ledger."
CONTENT_TYPE = "application/json"

Headers = list[tuple[str, bytes]]


class MalformedRecord(EventDecodeError):
    """A Kafka record that is not a Bridges CloudEvent (bad headers, body or type)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class KafkaRecord:
    """What is sent: key, value and headers, all bytes, as kafka-python takes them."""

    key: bytes
    value: bytes
    headers: Headers


def cloudevent_type(event_type: str, schema_version: int) -> str:
    """The stable, versioned CloudEvents type, e.g. `uk.bridges.ledger.ClaimApproved.v1`."""
    return f"{TYPE_PREFIX}{event_type}.v{schema_version}"


def parse_cloudevent_type(ce_type: str) -> tuple[str, int]:
    if not ce_type.startswith(TYPE_PREFIX):
        raise MalformedRecord(f"ce_type {ce_type!r} is not a Bridges ledger event")
    name, dot, version = ce_type[len(TYPE_PREFIX) :].rpartition(".v")
    if not dot or not name or not version.isdigit():
        raise MalformedRecord(f"ce_type {ce_type!r} has no version suffix like '.v1'")
    return name, int(version)


def to_record(event: StoredEvent) -> KafkaRecord:
    """The Kafka record for a stored event."""
    headers: dict[str, str | None] = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": str(event.event_id),
        "ce_source": SOURCE,
        "ce_type": cloudevent_type(event.type, event.schema_version),
        "ce_subject": event.stream_id,
        "ce_time": event.occurred_at.isoformat(),
        "ce_globalposition": str(event.global_position),
        "ce_streamversion": str(event.stream_version),
        "ce_partitionkey": event.partition_key,
        "ce_actor": event.actor,
        "ce_correlationid": event.correlation_id,
        "ce_causationid": event.causation_id,
        "content-type": CONTENT_TYPE,
    }
    return KafkaRecord(
        key=event.partition_key.encode("utf-8"),
        value=json.dumps(dict(event.data), separators=(",", ":"), sort_keys=True).encode("utf-8"),
        headers=[
            (name, value.encode("utf-8")) for name, value in headers.items() if value is not None
        ],
    )


@dataclass(frozen=True)
class ReceivedEvent:
    """A record read back: the envelope as stored, and the typed event."""

    envelope: StoredEvent
    event: Event


def _headers(raw: Sequence[tuple[str, bytes | None]] | None) -> dict[str, str]:
    decoded: dict[str, str] = {}
    for name, value in raw or ():
        if value is None:
            continue
        try:
            decoded[name] = value.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedRecord(f"header {name} is not UTF-8") from error
    return decoded


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise MalformedRecord(f"missing header {name}")
    return value


def _integer(headers: Mapping[str, str], name: str) -> int:
    value = _required(headers, name)
    if not value.isdigit():
        raise MalformedRecord(f"header {name} is not a positive integer: {value!r}")
    return int(value)


Opener = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]


def from_record(
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    opener: Opener | None = None,
) -> ReceivedEvent:
    """Decode a record; raises `EventDecodeError` (with a reason) for anything malformed,
    unknown or of a schema version this code cannot read. `opener` opens the sealed personal
    fields of the typed event (the envelope keeps the data as received, sealed)."""
    attributes = _headers(headers)
    if attributes.get("ce_specversion") != SPEC_VERSION:
        raise MalformedRecord(f"ce_specversion is {attributes.get('ce_specversion')!r}, not 1.0")
    event_type, schema_version = parse_cloudevent_type(_required(attributes, "ce_type"))
    try:
        event_id = uuid.UUID(_required(attributes, "ce_id"))
    except ValueError as error:
        raise MalformedRecord("ce_id is not a UUID") from error
    try:
        occurred_at = datetime.fromisoformat(_required(attributes, "ce_time"))
    except ValueError as error:
        raise MalformedRecord("ce_time is not an ISO 8601 instant") from error
    if occurred_at.tzinfo is None:
        raise MalformedRecord("ce_time has no time zone")
    if value is None:
        raise MalformedRecord("the record has no body")
    try:
        data: Any = json.loads(value)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedRecord(f"the body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise MalformedRecord("the body is not a JSON object")
    # Text stored before the text rules (a lone surrogate, a NUL) is read as displayable, so
    # the read model can store it (PostgreSQL refuses NUL) and show it (shared/text.py). A
    # body that cannot hold such text (the common case) needs no walk through its values.
    plain = displayable_json(value)
    if opener is not None:
        opened = opener(event_type, data)
        plain = plain and opened == data
        data = opened
    if not plain:
        data = displayable_all(data)
    event = from_data(event_type, schema_version, data)
    partition_key = attributes.get("ce_partitionkey") or (key or b"").decode("utf-8", "replace")
    envelope = StoredEvent(
        global_position=_integer(attributes, "ce_globalposition"),
        event_id=event_id,
        type=event_type,
        schema_version=schema_version,
        stream_id=_required(attributes, "ce_subject"),
        stream_version=_integer(attributes, "ce_streamversion"),
        partition_key=partition_key,
        occurred_at=occurred_at,
        actor=attributes.get("ce_actor"),
        correlation_id=attributes.get("ce_correlationid"),
        causation_id=attributes.get("ce_causationid"),
        data=data,
    )
    return ReceivedEvent(envelope=envelope, event=event)


__all__ = [
    "EventDecodeError",
    "KafkaRecord",
    "MalformedRecord",
    "ReceivedEvent",
    "cloudevent_type",
    "from_record",
    "to_record",
]
