"""Balances from maintained state: `claims.settled_on` (the date from which a settled claim's
figures are fixed) and `claim_totals` (per agreement, the sums of its settled claims' fixed
figures), both backfilled from the claims view's facts (migration 0004) by the projections'
own rule (`services.ledger.projections.settlement`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
_SUMMED = (
    "claims",
    "claimed_pence",
    "approved_pence",
    "paid_pence",
    "outstanding_pence",
    "awaiting_approval_pence",
)


def upgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("settled_on", sa.Date()))
    op.create_index("ix_claims_partnership_settled", "claims", ["partnership_id", "settled_on"])
    op.create_table(
        "claim_totals",
        sa.Column("agreement_id", sa.String(36), primary_key=True),
        sa.Column("partnership_id", sa.String(36), nullable=False),
        sa.Column("payer_id", sa.String(36), nullable=False),
        sa.Column("payee_id", sa.String(36), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _SUMMED),
    )
    op.create_index("ix_claim_totals_partnership", "claim_totals", ["partnership_id"])
    if context.is_offline_mode():
        op.execute("-- claim_totals and claims.settled_on are backfilled by an online upgrade")
        return
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_claim_totals_partnership", table_name="claim_totals")
    op.drop_table("claim_totals")
    op.drop_index("ix_claims_partnership_settled", table_name="claims")
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("settled_on")


def backfill(connection: sa.Connection) -> None:
    """One zero row per agreement, then each claim's settlement from its facts, summed."""
    from services.ledger.domain.balances import SUMMED
    from services.ledger.projections import claim_terms, settlement

    assert tuple(SUMMED) == _SUMMED
    agreements = sa.table(
        "agreements",
        sa.column("id", sa.String),
        sa.column("partnership_id", sa.String),
        sa.column("payer_id", sa.String),
        sa.column("payee_id", sa.String),
    )
    totals_columns = [sa.column(name, sa.BigInteger) for name in _SUMMED]
    claim_totals = sa.table(
        "claim_totals",
        sa.column("agreement_id", sa.String),
        sa.column("partnership_id", sa.String),
        sa.column("payer_id", sa.String),
        sa.column("payee_id", sa.String),
        *totals_columns,
    )
    claims = sa.table(
        "claims",
        *(
            sa.column(name, sa.String)
            for name in ("id", "partnership_id", "agreement_id", "payer_id", "payee_id")
        ),
        *(
            sa.column(name, sa.Date)
            for name in ("submitted_on", "approval_due", "base_payment_due", "settled_on")
        ),
        sa.column("facts", sa.JSON),
    )
    sums: dict[str, dict[str, int]] = {}
    for row in connection.execute(sa.select(agreements).order_by(agreements.c.id)).all():
        sums[row.id] = dict.fromkeys(_SUMMED, 0)
        connection.execute(
            sa.insert(claim_totals).values(
                agreement_id=row.id,
                partnership_id=row.partnership_id,
                payer_id=row.payer_id,
                payee_id=row.payee_id,
                **sums[row.id],
            )
        )
    last = ""
    while True:
        rows = connection.execute(
            sa.select(claims)
            .where(claims.c.id > last, claims.c.facts.is_not(None))
            .order_by(claims.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        settled: list[dict[str, Any]] = []
        for row in rows:
            terms = claim_terms(row)
            settled_on, fixed = settlement(terms, row.facts)
            if fixed is None:
                continue
            settled.append({"claim_id": row.id, "on": settled_on})
            total = sums.setdefault(row.agreement_id, dict.fromkeys(_SUMMED, 0))
            for name in _SUMMED:
                total[name] += fixed[name]
        if settled:
            connection.execute(
                sa.update(claims)
                .where(claims.c.id == sa.bindparam("claim_id"))
                .values(settled_on=sa.bindparam("on")),
                settled,
            )
    for agreement_id in sorted(sums):
        connection.execute(
            sa.update(claim_totals)
            .where(claim_totals.c.agreement_id == agreement_id)
            .values(sums[agreement_id])
        )
