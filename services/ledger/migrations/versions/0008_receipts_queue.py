"""Receipts on expense lines (their uploads, kept beside the log), the agreement's nation in
the agreements view (working days of the approval SLA) and an index for a payer's approval
queue; the nation is backfilled from each agreement's AgreementSigned event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from shared.sql import UTCDateTime, json_type

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("organisation_id", sa.String(36), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(36), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.Column("erased_at", UTCDateTime()),
    )
    with op.batch_alter_table("agreements") as batch:
        batch.add_column(sa.Column("nation", sa.String(32)))
    op.create_index("ix_claims_payer_queue", "claims", ["payer_id", "status", "approval_due"])
    if context.is_offline_mode():
        op.execute("-- agreements.nation is backfilled from the events by an online upgrade")
        return
    _backfill_nations(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_claims_payer_queue", table_name="claims")
    with op.batch_alter_table("agreements") as batch:
        batch.drop_column("nation")
    op.drop_table("receipts")


def _backfill_nations(connection: sa.Connection) -> None:
    events = sa.table("events", sa.column("type", sa.String), sa.column("data", json_type()))
    agreements = sa.table("agreements", sa.column("id", sa.String), sa.column("nation", sa.String))
    for (data,) in connection.execute(
        sa.select(events.c.data).where(events.c.type == "AgreementSigned")
    ):
        connection.execute(
            sa.update(agreements)
            .where(agreements.c.id == data["agreement_id"])
            .values(nation=data["nation"])
        )
