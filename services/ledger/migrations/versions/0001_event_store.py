"""Event store: the event log, idempotency keys, relay progress.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "global_position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("stream_id", sa.String(), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("partition_key", sa.String(), nullable=False),
        sa.Column("occurred_at", _instant(), nullable=False),
        sa.Column("actor", sa.String(), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("causation_id", sa.String(), nullable=True),
        sa.Column("data", _json(), nullable=False),
        sa.PrimaryKeyConstraint("global_position", name="pk_events"),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        sa.UniqueConstraint(
            "stream_id", "stream_version", name="uq_events_stream_id_stream_version"
        ),
        sa.CheckConstraint("stream_version >= 1", name="ck_events_stream_version_positive"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_events_partition_key_global_position", "events", ["partition_key", "global_position"]
    )
    op.create_index("ix_events_type", "events", ["type"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("request_hash", sa.String(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", _json(), nullable=True),
        sa.Column("response_body", _json(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("locked_until", _instant(), nullable=True),
        sa.Column("completed_at", _instant(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
        sa.CheckConstraint("state IN ('in_flight', 'done')", name="ck_idempotency_keys_state"),
    )

    op.create_table(
        "relay_progress",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_relay_progress"),
    )


def downgrade() -> None:
    op.drop_table("relay_progress")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_events_type", table_name="events")
    op.drop_index("ix_events_partition_key_global_position", table_name="events")
    op.drop_table("events")
