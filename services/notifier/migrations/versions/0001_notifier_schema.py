"""The notifier schema: read model, consumption, alerts, subscriptions, deliveries, statements.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nf_agreements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partnership_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=36), nullable=False),
        sa.Column("payee_id", sa.String(length=36), nullable=False),
        sa.Column("nation", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("budget_pence", sa.BigInteger(), nullable=True),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("approval_sla_working_days", sa.Integer(), nullable=False),
        sa.Column(
            "reminder_schedule",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_agreements")),
    )
    with op.batch_alter_table("nf_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nf_agreements_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "nf_alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("partnership_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=36), nullable=True),
        sa.Column("payee_id", sa.String(length=36), nullable=True),
        sa.Column("claim_id", sa.String(length=36), nullable=True),
        sa.Column("agreement_id", sa.String(length=36), nullable=True),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "detail",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("acknowledged_by", sa.String(length=36), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_alerts")),
        sa.UniqueConstraint("subject_id", "kind", "level", name="uq_nf_alerts_identity"),
    )
    with op.batch_alter_table("nf_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_nf_alerts_claim", ["claim_id"], unique=False)
        batch_op.create_index(
            "ix_nf_alerts_partnership_status", ["partnership_id", "status"], unique=False
        )

    op.create_table(
        "nf_claims",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partnership_id", sa.String(length=36), nullable=False),
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=36), nullable=False),
        sa.Column("payee_id", sa.String(length=36), nullable=False),
        sa.Column("submitted_by", sa.String(length=36), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("approval_due", sa.Date(), nullable=False),
        sa.Column("base_payment_due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_pence", sa.BigInteger(), nullable=False),
        sa.Column("approved_pence", sa.BigInteger(), nullable=False),
        sa.Column("paid_pence", sa.BigInteger(), nullable=False),
        sa.Column(
            "facts",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_claims")),
    )
    with op.batch_alter_table("nf_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nf_claims_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            "ix_nf_claims_partnership_status", ["partnership_id", "status"], unique=False
        )
        batch_op.create_index("ix_nf_claims_payee_status", ["payee_id", "status"], unique=False)
        batch_op.create_index("ix_nf_claims_payer_status", ["payer_id", "status"], unique=False)

    op.create_table(
        "nf_consumer_offsets",
        sa.Column("consumer_group", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "consumer_group", "topic", "partition", name=op.f("pk_nf_consumer_offsets")
        ),
    )
    op.create_table(
        "nf_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.Column("statement_id", sa.String(length=36), nullable=True),
        sa.Column("subscription_id", sa.String(length=36), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=2000), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column(
            "payload",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_deliveries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_nf_deliveries_message_id")),
    )
    with op.batch_alter_table("nf_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_nf_deliveries_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "nf_delivery_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_delivery_attempts")),
    )
    with op.batch_alter_table("nf_delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nf_delivery_attempts_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "nf_organisations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_organisations")),
    )
    op.create_table(
        "nf_partnership_members",
        sa.Column("partnership_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint(
            "partnership_id", "organisation_id", name=op.f("pk_nf_partnership_members")
        ),
    )
    with op.batch_alter_table("nf_partnership_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nf_partnership_members_organisation", ["organisation_id"], unique=False
        )

    op.create_table(
        "nf_partnerships",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "organisation_ids",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_partnerships")),
    )
    op.create_table(
        "nf_payments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partnership_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=36), nullable=False),
        sa.Column("payee_id", sa.String(length=36), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column(
            "allocations",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("reversed_on", sa.Date(), nullable=True),
        sa.Column("reversal_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_payments")),
    )
    with op.batch_alter_table("nf_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nf_payments_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "nf_people",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "roles",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_people")),
    )
    with op.batch_alter_table("nf_people", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nf_people_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "nf_processed_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("global_position", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_nf_processed_events")),
    )
    op.create_table(
        "nf_statements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partnership_id", sa.String(length=36), nullable=False),
        sa.Column("payee_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column(
            "recipients",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_statements")),
        sa.UniqueConstraint(
            "partnership_id",
            "payee_id",
            "payer_id",
            "kind",
            "period_end",
            "trigger",
            name="uq_nf_statements_period",
        ),
    )
    op.create_table(
        "nf_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column(
            "kinds",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("statements", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nf_subscriptions")),
    )
    with op.batch_alter_table("nf_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nf_subscriptions_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("nf_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nf_subscriptions_organisation_id"))

    op.drop_table("nf_subscriptions")
    op.drop_table("nf_statements")
    op.drop_table("nf_processed_events")
    with op.batch_alter_table("nf_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nf_people_organisation_id"))

    op.drop_table("nf_people")
    with op.batch_alter_table("nf_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nf_payments_partnership_id"))

    op.drop_table("nf_payments")
    op.drop_table("nf_partnerships")
    with op.batch_alter_table("nf_partnership_members", schema=None) as batch_op:
        batch_op.drop_index("ix_nf_partnership_members_organisation")

    op.drop_table("nf_partnership_members")
    op.drop_table("nf_organisations")
    with op.batch_alter_table("nf_delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nf_delivery_attempts_delivery_id"))

    op.drop_table("nf_delivery_attempts")
    with op.batch_alter_table("nf_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_nf_deliveries_due")

    op.drop_table("nf_deliveries")
    op.drop_table("nf_consumer_offsets")
    with op.batch_alter_table("nf_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_nf_claims_payer_status")
        batch_op.drop_index("ix_nf_claims_payee_status")
        batch_op.drop_index("ix_nf_claims_partnership_status")
        batch_op.drop_index(batch_op.f("ix_nf_claims_agreement_id"))

    op.drop_table("nf_claims")
    with op.batch_alter_table("nf_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_nf_alerts_partnership_status")
        batch_op.drop_index("ix_nf_alerts_claim")

    op.drop_table("nf_alerts")
    with op.batch_alter_table("nf_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nf_agreements_partnership_id"))

    op.drop_table("nf_agreements")
