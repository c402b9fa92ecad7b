"""The ledger's own read views: tables derived from events, written in the same
transaction as the events they come from, so they are never ahead of or behind the log.

Credentials (`api_tokens`) are the one exception: a secret is not a fact to publish.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from shared.sql import UTCDateTime, json_type

from .metadata import metadata

organisations = Table(
    "organisations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("charity_number", String(16)),
    Column("company_number", String(16)),
    Column("contact_email", String(320)),
    Column("registered_at", UTCDateTime(), nullable=False),
)

people = Table(
    "people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", String(36), ForeignKey("organisations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("roles", JSON, nullable=False),
    Column("password_hash", String(256)),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

partnerships = Table(
    "partnerships",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("formed_at", UTCDateTime(), nullable=False),
)

partnership_members = Table(
    "partnership_members",
    metadata,
    Column("partnership_id", String(36), ForeignKey("partnerships.id"), primary_key=True),
    Column("organisation_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Index("ix_partnership_members_organisation", "organisation_id"),
)

agreements = Table(
    "agreements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("partnership_id", String(36), ForeignKey("partnerships.id"), nullable=False),
    Column("payer_id", String(36), ForeignKey("organisations.id"), nullable=False),
    Column("payee_id", String(36), ForeignKey("organisations.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_agreements_partnership", "partnership_id"),
)

claims = Table(
    "claims",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created_position", BigInteger, nullable=False, unique=True),
    Column("partnership_id", String(36), nullable=False),
    Column("agreement_id", String(36), nullable=False),
    Column("payer_id", String(36), nullable=False),
    Column("payee_id", String(36), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("submitted_on", Date, nullable=False),
    Column("amount_pence", BigInteger, nullable=False),
    Column("approved_pence", BigInteger, nullable=False),
    Column("paid_pence", BigInteger, nullable=False),
    # What `shared.claim_position.position_as_at` needs, so balances read rows, not streams:
    # the terms the submission fixed and every dated fact about the claim (its own events and
    # its payments' shares, in the order recorded), as `fact_to_json` writes them.
    Column("approval_due", Date),
    Column("base_payment_due", Date),
    Column("facts", json_type()),
    Index("ix_claims_payee", "payee_id", "created_position"),
    Index("ix_claims_payer", "payer_id", "created_position"),
    Index("ix_claims_partnership", "partnership_id", "created_position"),
    Index("ix_claims_agreement", "agreement_id"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("partnership_id", String(36), nullable=False),
    Column("payer_id", String(36), nullable=False),
    Column("payee_id", String(36), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("amount_pence", BigInteger, nullable=False),
    Column("reversed", Integer, nullable=False, default=0),
    Index("ix_payments_payer", "payer_id"),
)

allocations = Table(
    "allocations",
    metadata,
    Column("payment_id", String(36), ForeignKey("payments.id"), primary_key=True),
    Column("claim_id", String(36), ForeignKey("claims.id"), primary_key=True),
    Column("amount_pence", BigInteger, nullable=False),
    Index("ix_allocations_claim", "claim_id"),
)

# Sign-in and access records live beside the views (on the same metadata).
from .access_tables import (  # noqa: E402, F401
    access_audit,
    identity_providers,
    idp_links,
    sign_in_failures,
    sign_ins,
)
