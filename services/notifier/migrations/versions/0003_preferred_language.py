"""The preferred language (cy or en) of organisations and people, for emails and statements.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("nf_organisations", sa.Column("preferred_language", sa.String(8)))
    op.add_column("nf_people", sa.Column("preferred_language", sa.String(8)))


def downgrade() -> None:
    op.drop_column("nf_people", "preferred_language")
    op.drop_column("nf_organisations", "preferred_language")
