"""Tokens the ledger revoked (`ApiTokensRevoked` events), refused by the notifier's API.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.sql import UTCDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nf_revoked_tokens",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_nf_revoked_tokens")),
    )
    op.create_index(
        op.f("ix_nf_revoked_tokens_person_id"), "nf_revoked_tokens", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_nf_revoked_tokens_person_id"), table_name="nf_revoked_tokens")
    op.drop_table("nf_revoked_tokens")
