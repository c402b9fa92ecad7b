"""The event store's tables: the event log, idempotency records and relay progress."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Identity,
    Index,
    Integer,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.ledger.store.metadata import metadata


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: accepts aware datetimes only, stores UTC, always returns aware UTC.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the UTC wall time is stored and
    the zone is put back on read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: instants must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json() -> Any:
    """JSON on SQLite, JSONB on PostgreSQL; Python `None` is stored as SQL NULL."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


# SQLite only turns INTEGER (not BIGINT) PRIMARY KEY into the rowid, which AUTOINCREMENT needs.
_Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("global_position", _Position, Identity(), primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("stream_id", String, nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("partition_key", String, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("actor", String, nullable=True),
    Column("correlation_id", String, nullable=True),
    Column("causation_id", String, nullable=True),
    Column("data", _json(), nullable=False),
    UniqueConstraint("event_id"),
    UniqueConstraint("stream_id", "stream_version"),
    CheckConstraint("stream_version >= 1", name="stream_version_positive"),
    Index("ix_events_partition_key_global_position", "partition_key", "global_position"),
    Index("ix_events_type", "type"),
    # Positions are never reused, even after the newest event's row would be deleted.
    sqlite_autoincrement=True,
)

IDEMPOTENCY_IN_FLIGHT = "in_flight"
IDEMPOTENCY_DONE = "done"

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String, primary_key=True),
    Column("key", String, primary_key=True),
    Column("request_hash", String, nullable=False),
    Column("state", String(16), nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_headers", _json(), nullable=True),
    Column("response_body", _json(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    CheckConstraint(f"state IN ('{IDEMPOTENCY_IN_FLIGHT}', '{IDEMPOTENCY_DONE}')", name="state"),
)

relay_progress = Table(
    "relay_progress",
    metadata,
    Column("name", String, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
