"""The event store's tables: the event log, idempotency records, relay progress and the
personal data keys."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import base as postgresql_types
from sqlalchemy.types import UserDefinedType

from services.ledger.store.metadata import metadata
from shared.sql import UTCDateTime, json_type


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (`xid8`, never wraps around)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "XID8"


# So that reflection (Alembic's comparison of the migrated schema) knows the type too.
postgresql_types.ischema_names["xid8"] = Xid8


# SQLite only turns INTEGER (not BIGINT) PRIMARY KEY into the rowid.
_Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    # SQLite: the rowid, without AUTOINCREMENT (migration 0012): nothing deletes events, so a new
    # row's position (the highest stored plus one) was never given out before.
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
    Column("data", json_type(), nullable=False),
    # PostgreSQL: the id of the transaction that wrote the event (DEFAULT pg_current_xact_id(),
    # set by the migration; 1 for events older than it), the first key of the feed's order.
    # Unused (0) on SQLite.
    # The defaults are the migration's (per dialect; schemas are only made by migrations).
    Column("transaction_id", BigInteger().with_variant(Xid8(), "postgresql"), nullable=False),
    UniqueConstraint("event_id"),
    UniqueConstraint("stream_id", "stream_version"),
    CheckConstraint("stream_version >= 1", name="stream_version_positive"),
    Index("ix_events_partition_key_global_position", "partition_key", "global_position"),
    # The feed's order on PostgreSQL; empty on SQLite (NULLs), where it would only cost writes.
    Index(
        "ix_events_feed",
        "transaction_id",
        "global_position",
        sqlite_where=text("transaction_id > 0"),
    ),
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
    Column("response_headers", json_type(), nullable=True),
    Column("response_body", json_type(), nullable=True),
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

# Who may publish the feed: one row per relay name, held by one owner until `expires_at`
# (renewed while it publishes). SQLite's single-publisher lease; PostgreSQL uses an advisory lock.
relay_leases = Table(
    "relay_leases",
    metadata,
    Column("name", String, primary_key=True),
    Column("owner", String, nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

# One data key per subject (`person:<id>`, `claim:<id>`) sealing its personal fields in the
# events (shared/events/personal.py). Outside the log on purpose: erasure sets `key` to NULL
# and every sealed copy of the subject's fields, wherever it went, reads "erased".
data_keys = Table(
    "data_keys",
    metadata,
    Column("subject", String(80), primary_key=True),
    Column("key", LargeBinary(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("erased_at", UTCDateTime(), nullable=True),
    Column("erased_reason", String(16), nullable=True),
)
