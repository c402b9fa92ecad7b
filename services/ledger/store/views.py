"""The ledger's own read views: tables derived from events, written in the same
transaction as the events they come from, so they are never ahead of or behind the log.

Credentials (`api_tokens`) are one exception: a secret is not a fact to publish. Uploaded
receipts (`receipts`) are the other: personal data kept beside the log (which holds only their
content hashes), so they can be erased without rewriting history.
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
    Column("vat_number", String(16)),
    Column("peppol_id", String(64)),
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

# One row per file a VCSE organisation uploaded (its bytes are in the receipt storage under
# `<organisation_id>/<sha256>`); `erased_at` is set when the bytes were erased.
receipts = Table(
    "receipts",
    metadata,
    Column("organisation_id", String(36), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(32), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("uploaded_by", String(36), nullable=False),
    Column("uploaded_at", UTCDateTime(), nullable=False),
    Column("erased_at", UTCDateTime()),
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
    # Whose bank holidays count as non-working days (the approval SLA's working days).
    Column("nation", String(32)),
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
    # The date of the claim's last fact once nothing is open on it (`Position.figures_fixed`),
    # from which on its figures are fixed and counted in `claim_totals`; NULL while open.
    Column("settled_on", Date),
    Index("ix_claims_payee", "payee_id", "created_position"),
    Index("ix_claims_payer", "payer_id", "created_position"),
    Index("ix_claims_partnership", "partnership_id", "created_position"),
    Index("ix_claims_agreement", "agreement_id"),
    # A payer's approval queue: its undecided claims in queue order (`queue.queue_key`), so a
    # claim's place counts, along it, only the claims of its own day behind it (0011, 0013).
    Index("ix_claims_payer_queue", "payer_id", "status", "approval_due", "submitted_on", "id"),
    # Balances: a partnership's claims still open, or settled after the date asked for.
    Index("ix_claims_partnership_settled", "partnership_id", "settled_on"),
)

# Per agreement, the sums (`services.ledger.domain.balances.SUMMED`) of the fixed
# contributions of its settled claims (`claims.settled_on` set): a balance reads these rows
# and evaluates only the claims still open, so it costs the same whatever the history.
# Kept by the projections in the same transaction as the events, by `SET x = x + delta`.
claim_totals = Table(
    "claim_totals",
    metadata,
    Column("agreement_id", String(36), primary_key=True),
    Column("partnership_id", String(36), nullable=False),
    Column("payer_id", String(36), nullable=False),
    Column("payee_id", String(36), nullable=False),
    Column("claims", BigInteger, nullable=False),
    Column("claimed_pence", BigInteger, nullable=False),
    Column("approved_pence", BigInteger, nullable=False),
    Column("paid_pence", BigInteger, nullable=False),
    Column("outstanding_pence", BigInteger, nullable=False),
    Column("awaiting_approval_pence", BigInteger, nullable=False),
    Index("ix_claim_totals_partnership", "partnership_id"),
)

# A payer's approval queue counted by day: how many of its claims in the queue (status
# `submitted`) fall on each (approval due, submitted on), kept by the projections in the
# transaction that moves a claim in or out (a day's row goes when its count reaches 0). A
# claim's place sums the counts of the days up to its own, less its own day's claims behind
# it (`queue.places_in_queue`): a few rows per payer, not its whole queue (migration 0013).
queue_days = Table(
    "queue_days",
    metadata,
    Column("payer_id", String(36), primary_key=True),
    Column("approval_due", Date, primary_key=True),
    Column("submitted_on", Date, primary_key=True),
    Column("claims", BigInteger, nullable=False),
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

# E-invoices: one row per invoice, and one per claim it covers (a claim is invoiced once).
invoices = Table(
    "invoices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("issuer_id", String(36), nullable=False),
    Column("payer_id", String(36), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("number", String(32), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("period", String(7)),
    Column("total_pence", BigInteger, nullable=False),
    Column("global_position", BigInteger, nullable=False),
    Index("ix_invoices_issuer_sequence", "issuer_id", "sequence", unique=True),
    Index("ix_invoices_month", "issuer_id", "payer_id", "period"),
)

invoice_claims = Table(
    "invoice_claims",
    metadata,
    Column("claim_id", String(36), primary_key=True),
    Column("invoice_id", String(36), ForeignKey("invoices.id"), nullable=False),
    Index("ix_invoice_claims_invoice", "invoice_id"),
)

# Sign-in and access records live beside the views (on the same metadata).
from .access_tables import (  # noqa: E402, F401
    access_audit,
    identity_providers,
    idp_links,
    sign_in_failures,
    sign_ins,
)
