"""The feed's order on PostgreSQL: each event's transaction id (`xid8`, filled by the server as
the event is written) and an index on (transaction_id, global_position), so writers on
different claims can commit at the same time while readers still never skip a late commit
(see services/ledger/store/event_store.py). Existing events get the constant id 1, below
every real transaction id (not the migration's own: an old-release writer whose id was drawn
before this ALTER would then sort before all history, and a caught-up reader would never be
served it); their order stays their position order, as the single writer lock made it. The
column is NOT NULL on PostgreSQL. SQLite keeps one writer and its position order: the column
is 0 there, unused (its index there is partial, on rows above 0: empty).

The index is built inside the migrations' one transaction, not `CREATE INDEX CONCURRENTLY`:
every migration runs in one transaction holding the upgraders' transaction-scoped advisory
lock (shared/migrations.py); `autocommit_block` would commit that transaction half-way,
releasing the lock and splitting the upgrade. On a large log the build blocks writes to
`events` while it runs: plan the upgrade's window (docs/operations.md, "Upgrading").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE events ADD COLUMN transaction_id xid8 NOT NULL DEFAULT '1'")
        op.execute(
            "ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT pg_current_xact_id()"
        )
    else:
        with op.batch_alter_table("events") as batch:
            batch.add_column(
                sa.Column("transaction_id", sa.BigInteger(), nullable=False, server_default="0")
            )
    op.create_index(
        "ix_events_feed",
        "events",
        ["transaction_id", "global_position"],
        sqlite_where=sa.text("transaction_id > 0"),  # empty there: it costs no writes
    )


def downgrade() -> None:
    op.drop_index("ix_events_feed", table_name="events")
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE events DROP COLUMN transaction_id")
    else:
        with op.batch_alter_table("events") as batch:
            batch.drop_column("transaction_id")
