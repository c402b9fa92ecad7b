"""The event envelope: what every stored event carries besides its data."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.ids import time_ordered_uuid


def new_event_id(unix_milliseconds: int | None = None) -> uuid.UUID:
    """A fresh event id: time-ordered (`shared.ids.time_ordered_uuid`), so each store's unique
    index on event ids takes a new id near the last one instead of on a random page (fewer
    pages written per commit). Nothing orders or decides by the time in it: the feed's order
    is the store's, and an event's instant is its `occurred_at`."""
    return time_ordered_uuid(unix_milliseconds)


@dataclass(frozen=True)
class NewEvent:
    """An event decided by a command, not yet stored (no position, no version)."""

    type: str
    data: Mapping[str, Any]
    schema_version: int = 1
    event_id: uuid.UUID = field(default_factory=new_event_id)


@dataclass(frozen=True)
class StoredEvent:
    """An event as the store holds it: ordered in its stream and in the global feed."""

    global_position: int
    event_id: uuid.UUID
    type: str
    schema_version: int
    stream_id: str
    stream_version: int
    partition_key: str
    occurred_at: datetime
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    data: Mapping[str, Any]
