"""The event envelope: what every stored event carries besides its data."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def new_event_id(unix_milliseconds: int | None = None) -> uuid.UUID:
    """A fresh event id: a UUID version 7 (RFC 9562 §5.7), 48 bits of Unix time in
    milliseconds (now, unless given) then 74 random bits. Ids made close in time sort close
    together, so each store's unique index on event ids takes a new id near the last one
    instead of on a random page (fewer pages written per commit). Nothing orders or decides
    by the time in it: the feed's order is the store's, and an event's instant is its
    `occurred_at`."""
    if unix_milliseconds is None:
        unix_milliseconds = time.time_ns() // 1_000_000
    milliseconds = unix_milliseconds & _BITS_48
    rand_a = int.from_bytes(os.urandom(2), "big") & 0xFFF  # 12 bits
    rand_b = int.from_bytes(os.urandom(8), "big") & _BITS_62  # 62 bits
    return uuid.UUID(
        int=(milliseconds << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    )


_BITS_48 = (1 << 48) - 1
_BITS_62 = (1 << 62) - 1


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
