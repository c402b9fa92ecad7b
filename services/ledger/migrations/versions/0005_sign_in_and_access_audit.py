"""Sign-in with an organisation's identity provider, sign-ins, the shared sign-in throttle and
the access audit.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _serial() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.Identity(),
        primary_key=True,
        autoincrement=True,
    )


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "identity_providers",
        sa.Column(
            "organisation_id",
            sa.String(36),
            sa.ForeignKey(
                "organisations.id", name="fk_identity_providers_organisation_id_organisations"
            ),
            nullable=False,
        ),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("client_secret_ref", sa.String(500), nullable=False),
        sa.Column("groups_claim", sa.String(100), nullable=False),
        sa.Column("role_map", _json(), nullable=False),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("organisation_id", name="pk_identity_providers"),
    )
    op.create_table(
        "idp_links",
        sa.Column(
            "person_id",
            sa.String(36),
            sa.ForeignKey("people.id", name="fk_idp_links_person_id_people"),
            nullable=False,
        ),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("roles", _json(), nullable=False),
        _when("signed_in_at"),
        sa.PrimaryKeyConstraint("person_id", name="pk_idp_links"),
    )
    op.create_index("ix_idp_links_issuer_subject", "idp_links", ["issuer", "subject"], unique=True)
    op.create_table(
        "sign_ins",
        _serial(),
        sa.Column(
            "person_id",
            sa.String(36),
            sa.ForeignKey("people.id", name="fk_sign_ins_person_id_people"),
            nullable=False,
        ),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("issuer", sa.String(500)),
        sa.Column("address", sa.String(64)),
        _when("at"),
        sa.PrimaryKeyConstraint("id", name="pk_sign_ins"),
    )
    op.create_index("ix_sign_ins_person_id_at", "sign_ins", ["person_id", "at"])
    op.create_table(
        "sign_in_failures",
        _serial(),
        sa.Column("key", sa.String(64), nullable=False),
        _when("failed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_failures"),
    )
    op.create_index("ix_sign_in_failures_key_failed_at", "sign_in_failures", ["key", "failed_at"])
    op.create_index("ix_sign_in_failures_failed_at", "sign_in_failures", ["failed_at"])
    op.create_table(
        "access_audit",
        _serial(),
        _when("at"),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_audit"),
    )
    op.create_index("ix_access_audit_at", "access_audit", ["at"])
    op.create_index("ix_access_audit_organisation_id_at", "access_audit", ["organisation_id", "at"])
    op.create_index("ix_access_audit_actor_at", "access_audit", ["actor", "at"])


def downgrade() -> None:
    tables = ("access_audit", "sign_in_failures", "sign_ins", "idp_links", "identity_providers")
    for table in tables:
        op.drop_table(table)
