"""E-invoices: the invoices view (one row per invoice, one per claim it covers, a claim invoiced
at most once), and organisations' VAT numbers and Peppol participant ids. Nothing to backfill:
no event before this revision issues an invoice or records either identifier.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("vat_number", sa.String(16)))
        batch.add_column(sa.Column("peppol_id", sa.String(64)))
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("issuer_id", sa.String(36), nullable=False),
        sa.Column("payer_id", sa.String(36), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("period", sa.String(7)),
        sa.Column("total_pence", sa.BigInteger, nullable=False),
        sa.Column("global_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_invoices_issuer_sequence", "invoices", ["issuer_id", "sequence"], unique=True
    )
    op.create_index("ix_invoices_month", "invoices", ["issuer_id", "payer_id", "period"])
    op.create_table(
        "invoice_claims",
        sa.Column("claim_id", sa.String(36), primary_key=True),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoices.id"), nullable=False),
    )
    op.create_index("ix_invoice_claims_invoice", "invoice_claims", ["invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_invoice_claims_invoice", table_name="invoice_claims")
    op.drop_table("invoice_claims")
    op.drop_index("ix_invoices_month", table_name="invoices")
    op.drop_index("ix_invoices_issuer_sequence", table_name="invoices")
    op.drop_table("invoices")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("peppol_id")
        batch.drop_column("vat_number")
