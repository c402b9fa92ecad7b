"""Ledger read views: organisations, people, API tokens, partnerships, agreements, claims,
payments and allocations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.String:
    return sa.String(36)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("charity_number", sa.String(16)),
        sa.Column("company_number", sa.String(16)),
        sa.Column("contact_email", sa.String(320)),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("id", _id(), primary_key=True),
        sa.Column(
            "organisation_id",
            _id(),
            sa.ForeignKey("organisations.id", name="fk_people_organisation_id_organisations"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(256)),
        sa.UniqueConstraint("email", name="uq_people_email"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "person_id",
            _id(),
            sa.ForeignKey("people.id", name="fk_api_tokens_person_id_people"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_tokens_person_id", "api_tokens", ["person_id"])
    op.create_table(
        "partnerships",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("formed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "partnership_members",
        sa.Column(
            "partnership_id",
            _id(),
            sa.ForeignKey(
                "partnerships.id", name="fk_partnership_members_partnership_id_partnerships"
            ),
            primary_key=True,
        ),
        sa.Column(
            "organisation_id",
            _id(),
            sa.ForeignKey(
                "organisations.id", name="fk_partnership_members_organisation_id_organisations"
            ),
            primary_key=True,
        ),
    )
    op.create_index(
        "ix_partnership_members_organisation", "partnership_members", ["organisation_id"]
    )
    op.create_table(
        "agreements",
        sa.Column("id", _id(), primary_key=True),
        sa.Column(
            "partnership_id",
            _id(),
            sa.ForeignKey("partnerships.id", name="fk_agreements_partnership_id_partnerships"),
            nullable=False,
        ),
        sa.Column(
            "payer_id",
            _id(),
            sa.ForeignKey("organisations.id", name="fk_agreements_payer_id_organisations"),
            nullable=False,
        ),
        sa.Column(
            "payee_id",
            _id(),
            sa.ForeignKey("organisations.id", name="fk_agreements_payee_id_organisations"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_agreements_partnership", "agreements", ["partnership_id"])
    op.create_table(
        "claims",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("created_position", sa.BigInteger(), nullable=False),
        sa.Column("partnership_id", _id(), nullable=False),
        sa.Column("agreement_id", _id(), nullable=False),
        sa.Column("payer_id", _id(), nullable=False),
        sa.Column("payee_id", _id(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("approved_pence", sa.BigInteger(), nullable=False),
        sa.Column("paid_pence", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("created_position", name="uq_claims_created_position"),
    )
    op.create_index("ix_claims_payee", "claims", ["payee_id", "created_position"])
    op.create_index("ix_claims_payer", "claims", ["payer_id", "created_position"])
    op.create_index("ix_claims_partnership", "claims", ["partnership_id", "created_position"])
    op.create_index("ix_claims_agreement", "claims", ["agreement_id"])
    op.create_table(
        "payments",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("partnership_id", _id(), nullable=False),
        sa.Column("payer_id", _id(), nullable=False),
        sa.Column("payee_id", _id(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("reversed", sa.Integer(), nullable=False),
    )
    op.create_index("ix_payments_payer", "payments", ["payer_id"])
    op.create_table(
        "allocations",
        sa.Column(
            "payment_id",
            _id(),
            sa.ForeignKey("payments.id", name="fk_allocations_payment_id_payments"),
            primary_key=True,
        ),
        sa.Column(
            "claim_id",
            _id(),
            sa.ForeignKey("claims.id", name="fk_allocations_claim_id_claims"),
            primary_key=True,
        ),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_allocations_claim", "allocations", ["claim_id"])


def downgrade() -> None:
    for index, table in (
        ("ix_allocations_claim", "allocations"),
        ("ix_payments_payer", "payments"),
        ("ix_claims_agreement", "claims"),
        ("ix_claims_partnership", "claims"),
        ("ix_claims_payer", "claims"),
        ("ix_claims_payee", "claims"),
        ("ix_agreements_partnership", "agreements"),
        ("ix_partnership_members_organisation", "partnership_members"),
        ("ix_api_tokens_person_id", "api_tokens"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "allocations",
        "payments",
        "claims",
        "agreements",
        "partnership_members",
        "partnerships",
        "api_tokens",
        "people",
        "organisations",
    ):
        op.drop_table(table)
