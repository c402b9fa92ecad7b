"""Fewer pages written per append: `events` loses AUTOINCREMENT on SQLite and `ix_events_type`
on both backends.

SQLite's AUTOINCREMENT keeps the highest position in `sqlite_sequence`, a page written by
every commit, only so that a position is never reused after the newest events' rows were
deleted. Nothing deletes events (the log is append-only; erasure forgets a data key, and the
legacy sealing rewrites rows in place), so the rowid alone never goes back: a new row gets
the highest position stored plus one. SQLite cannot drop AUTOINCREMENT in place: the table is
rebuilt (same columns, constraints and positions; its other indexes remade). A database whose
`sqlite_sequence` is above its highest position (rows were deleted by hand) is refused: a
position it gave out could be given again.

`ix_events_type` (one more index page per commit) served no query that needs it: the
claim-event scans (people.py) and the legacy sealing read most of the log anyway, in position
order, the receipts purge's "ever attached" test reads the data of every matching event
either way, and `read_by_partition_key` goes by the partition's index.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    "global_position, event_id, stream_id, stream_version, type, schema_version, partition_key,"
    " occurred_at, actor, correlation_id, causation_id, data, transaction_id"
)


def _table(autoincrement: bool) -> str:
    return f"""CREATE TABLE events_rebuilt (
    global_position INTEGER NOT NULL PRIMARY KEY{" AUTOINCREMENT" if autoincrement else ""},
    event_id VARCHAR(36) NOT NULL,
    stream_id VARCHAR NOT NULL,
    stream_version INTEGER NOT NULL,
    type VARCHAR NOT NULL,
    schema_version INTEGER NOT NULL,
    partition_key VARCHAR NOT NULL,
    occurred_at DATETIME NOT NULL,
    actor VARCHAR,
    correlation_id VARCHAR,
    causation_id VARCHAR,
    data JSON NOT NULL,
    transaction_id BIGINT DEFAULT '0' NOT NULL,
    CONSTRAINT uq_events_event_id UNIQUE (event_id),
    CONSTRAINT uq_events_stream_id_stream_version UNIQUE (stream_id, stream_version),
    CONSTRAINT ck_events_ck_events_stream_version_positive CHECK (stream_version >= 1)
)"""


def _rebuild_sqlite(autoincrement: bool) -> None:
    op.execute(_table(autoincrement))
    op.execute(
        f"INSERT INTO events_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM events"  # noqa: S608  # nosec B608: constants
        " ORDER BY global_position"
    )
    op.execute("DROP TABLE events")  # its indexes and its sqlite_sequence row with it
    op.execute("ALTER TABLE events_rebuilt RENAME TO events")
    op.create_index(
        "ix_events_partition_key_global_position", "events", ["partition_key", "global_position"]
    )
    op.create_index(
        "ix_events_feed",
        "events",
        ["transaction_id", "global_position"],
        sqlite_where=text("transaction_id > 0"),
    )


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        bind = op.get_bind()
        given = bind.execute(
            text("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'events'")
        ).scalar_one()
        stored = bind.execute(text("SELECT coalesce(max(global_position), 0) FROM events"))
        highest = stored.scalar_one()
        if given > highest:
            raise RuntimeError(
                f"events: positions up to {given} were given out but the highest stored is "
                f"{highest} (rows were deleted): without AUTOINCREMENT they could be reused; "
                "restore the deleted events (or a backup) before upgrading"
            )
        _rebuild_sqlite(autoincrement=False)
    else:
        op.drop_index("ix_events_type", table_name="events")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _rebuild_sqlite(autoincrement=True)
        op.execute(
            "INSERT INTO sqlite_sequence (name, seq)"
            " SELECT 'events', coalesce(max(global_position), 0) FROM events"
        )
    op.create_index("ix_events_type", "events", ["type"])
