"""Data keys: one AES-GCM key per person or claim sealing its personal fields (issue 12).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("subject", name="pk_data_keys"),
    )


def downgrade() -> None:
    op.drop_table("data_keys")
