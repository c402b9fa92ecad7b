"""The notifier's own database: its read model of the ledger's facts, the alerts it raised,
their deliveries, subscriptions, statements sent, and what it has consumed.

Tables are prefixed `nf_` so the notifier can share a PostgreSQL database with the ledger
without a clash, although each service normally has its own.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shared.sql import UTCDateTime, json_type

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# ---- read model -------------------------------------------------------------------------

organisations = Table(
    "nf_organisations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("contact_email", String(320)),
    # cy | en (PreferredLanguageChosen); None: English.
    Column("preferred_language", String(8)),
)

people = Table(
    "nf_people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", String(36), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("roles", json_type(), nullable=False),
    # cy | en, the person's own choice; None: their organisation's.
    Column("preferred_language", String(8)),
)

# Tokens the ledger revoked (`ApiTokensRevoked`), by the digest it stored: the API refuses them.
revoked_tokens = Table(
    "nf_revoked_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("revoked_at", UTCDateTime(), nullable=False),
)

partnerships = Table(
    "nf_partnerships",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("organisation_ids", json_type(), nullable=False),
)

partnership_members = Table(
    "nf_partnership_members",
    metadata,
    Column("partnership_id", String(36), primary_key=True),
    Column("organisation_id", String(36), primary_key=True),
    Index("ix_nf_partnership_members_organisation", "organisation_id"),
)

agreements = Table(
    "nf_agreements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("partnership_id", String(36), nullable=False, index=True),
    Column("payer_id", String(36), nullable=False),
    Column("payee_id", String(36), nullable=False),
    Column("nation", String(32), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("budget_pence", BigInteger),
    Column("payment_terms_days", Integer, nullable=False),
    Column("approval_sla_working_days", Integer, nullable=False),
    Column("reminder_schedule", json_type(), nullable=False),
)

claims = Table(
    "nf_claims",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("partnership_id", String(36), nullable=False),
    Column("agreement_id", String(36), nullable=False, index=True),
    Column("payer_id", String(36), nullable=False),
    Column("payee_id", String(36), nullable=False),
    Column("submitted_by", String(36), nullable=False),
    Column("submitted_on", Date, nullable=False),
    Column("approval_due", Date, nullable=False),
    Column("base_payment_due", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("claimed_pence", BigInteger, nullable=False),
    Column("approved_pence", BigInteger, nullable=False),
    Column("paid_pence", BigInteger, nullable=False),
    # The dated facts (see services/notifier/model.py), so any rule can ask "as at day D".
    Column("facts", json_type(), nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Index("ix_nf_claims_partnership_status", "partnership_id", "status"),
    Index("ix_nf_claims_payer_status", "payer_id", "status"),
    Index("ix_nf_claims_payee_status", "payee_id", "status"),
)

payments = Table(
    "nf_payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("partnership_id", String(36), nullable=False, index=True),
    Column("payer_id", String(36), nullable=False),
    Column("payee_id", String(36), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("reference", String(100), nullable=False),
    Column("amount_pence", BigInteger, nullable=False),
    Column("allocations", json_type(), nullable=False),
    Column("reversed_on", Date),
    Column("reversal_reason", Text),
)

# ---- consumption --------------------------------------------------------------------------

consumer_offsets = Table(
    "nf_consumer_offsets",
    metadata,
    Column("consumer_group", String(200), primary_key=True),
    Column("topic", String(249), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

processed_events = Table(
    "nf_processed_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("global_position", BigInteger, nullable=False),
    Column("processed_at", UTCDateTime(), nullable=False),
)

# ---- alerts and their delivery --------------------------------------------------------------

alerts = Table(
    "nf_alerts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subject_id", String(100), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("level", String(40), nullable=False),
    Column("partnership_id", String(36), nullable=False),
    Column("payer_id", String(36)),
    Column("payee_id", String(36)),
    Column("claim_id", String(36)),
    Column("agreement_id", String(36)),
    Column("raised_on", Date, nullable=False),
    Column("raised_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # open | acknowledged | resolved
    Column("title", String(300), nullable=False),
    Column("detail", json_type(), nullable=False),
    Column("acknowledged_by", String(36)),
    Column("acknowledged_at", UTCDateTime()),
    Column("resolved_at", UTCDateTime()),
    UniqueConstraint("subject_id", "kind", "level", name="uq_nf_alerts_identity"),
    Index("ix_nf_alerts_partnership_status", "partnership_id", "status"),
    Index("ix_nf_alerts_claim", "claim_id"),
)

subscriptions = Table(
    "nf_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", String(36), nullable=False, index=True),
    Column("created_by", String(36), nullable=False),
    Column("channel", String(16), nullable=False),  # email | webhook
    Column("target", String(2000), nullable=False),  # an email address or an https URL
    Column("secret", String(200)),  # webhooks: the signing secret (whsec_…)
    Column("kinds", json_type(), nullable=False),  # alert kinds; empty = all
    Column("digest", Boolean, nullable=False, default=False),
    Column("statements", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

deliveries = Table(
    "nf_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("alert_id", String(36)),
    Column("statement_id", String(36)),
    Column("subscription_id", String(36)),
    Column("channel", String(16), nullable=False),  # email | webhook
    Column("recipient", String(2000), nullable=False),
    # Stable across retries: the webhook-id header, or the email's Message-ID.
    Column("message_id", String(200), nullable=False, unique=True),
    Column("payload", json_type(), nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Index("ix_nf_deliveries_due", "status", "next_attempt_at"),
)

delivery_attempts = Table(
    "nf_delivery_attempts",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("delivery_id", String(36), nullable=False, index=True),
    Column("attempted_at", UTCDateTime(), nullable=False),
    Column("outcome", String(16), nullable=False),  # sent | failed
    Column("detail", Text),
)

statements = Table(
    "nf_statements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("partnership_id", String(36), nullable=False),
    Column("payee_id", String(36), nullable=False),
    Column("payer_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),  # activity | outstanding
    Column("period_start", Date),
    Column("period_end", Date, nullable=False),
    Column("produced_at", UTCDateTime(), nullable=False),
    Column("trigger", String(16), nullable=False),  # monthly | on_demand
    Column("recipients", json_type(), nullable=False),
    UniqueConstraint(
        "partnership_id",
        "payee_id",
        "payer_id",
        "kind",
        "period_end",
        "trigger",
        name="uq_nf_statements_period",
    ),
)
