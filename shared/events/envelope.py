"""The event envelope: what every stored event carries besides its data."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NewEvent:
    """An event decided by a command, not yet stored (no position, no version)."""

    type: str
    data: Mapping[str, Any]
    schema_version: int = 1
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


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
