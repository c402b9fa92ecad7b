"""A payer's approval queue index holds the whole queue order (approval due, submitted on, id),
so a claim's place is counted along the index alone (a range of it, up to the claim) instead
of looking up every queued claim's row: a submission's answer no longer costs more as its
payer's queue grows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_claims_payer_queue", table_name="claims")
    op.create_index(
        "ix_claims_payer_queue",
        "claims",
        ["payer_id", "status", "approval_due", "submitted_on", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_claims_payer_queue", table_name="claims")
    op.create_index("ix_claims_payer_queue", "claims", ["payer_id", "status", "approval_due"])
