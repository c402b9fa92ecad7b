"""Sign-in and access records: who may sign in through which identity provider, the sign-ins
made, the failed attempts the throttle counts, and who viewed or exported whose data.

Like `api_tokens`, these are not facts to publish: they stay in the ledger's database, out of
the event log and Kafka. An identity provider's client secret is never stored, only where to
read it (`env:NAME` or `file:PATH`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Identity, Index, Integer, String, Table

from shared.sql import UTCDateTime, json_type

from .metadata import metadata

_Id = BigInteger().with_variant(Integer(), "sqlite")

identity_providers = Table(
    "identity_providers",
    metadata,
    Column("organisation_id", String(36), ForeignKey("organisations.id"), primary_key=True),
    Column("issuer", String(500), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("client_secret_ref", String(500), nullable=False),
    Column("groups_claim", String(100), nullable=False),
    # {"<group id or name at the IdP>": ["approver", ...]}
    Column("role_map", json_type(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A person who signed in through their organisation's IdP: their roles are the ones the IdP's
# groups mapped to at their latest sign-in (they replace `people.roles`, see sessions.py).
idp_links = Table(
    "idp_links",
    metadata,
    Column("person_id", String(36), ForeignKey("people.id"), primary_key=True),
    Column("issuer", String(500), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("roles", json_type(), nullable=False),
    Column("signed_in_at", UTCDateTime(), nullable=False),
    Index("ix_idp_links_issuer_subject", "issuer", "subject", unique=True),
)

sign_ins = Table(
    "sign_ins",
    metadata,
    Column("id", _Id, Identity(), primary_key=True, autoincrement=True),
    Column("person_id", String(36), ForeignKey("people.id"), nullable=False),
    Column("method", String(16), nullable=False),  # "password" or "idp"
    Column("issuer", String(500)),
    Column("address", String(64)),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_sign_ins_person_id_at", "person_id", "at"),
)

# One row per failed password sign-in, keyed by a digest of (email, address): shared by every
# worker and process on the database, pruned as the window passes.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", _Id, Identity(), primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("failed_at", UTCDateTime(), nullable=False),
    Index("ix_sign_in_failures_key_failed_at", "key", "failed_at"),
    Index("ix_sign_in_failures_failed_at", "failed_at"),
)

access_audit = Table(
    "access_audit",
    metadata,
    Column("id", _Id, Identity(), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    # A person's id, or "cli:<login>" for an operator's command.
    Column("actor", String(100), nullable=False),
    Column("organisation_id", String(36), nullable=False),  # whose data was seen
    Column("action", String(16), nullable=False),  # "view", "download" or "export"
    Column("resource", String(32), nullable=False),  # "statement", "claim", "organisation"
    Column("resource_id", String(100), nullable=False),
    Index("ix_access_audit_at", "at"),
    Index("ix_access_audit_organisation_id_at", "organisation_id", "at"),
    Index("ix_access_audit_actor_at", "actor", "at"),
)
