"""Claims view keeps each claim's terms and dated facts, so balances and positions are computed
from view rows (one query) instead of replaying every claim's streams; backfilled from the log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from shared.claim_position import fact_of, fact_to_json
from shared.events import catalogue
from shared.sql import json_type

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("approval_due", sa.Date()))
        batch.add_column(sa.Column("base_payment_due", sa.Date()))
        batch.add_column(sa.Column("facts", json_type()))
    if context.is_offline_mode():
        # Rendering SQL only: the facts are folded from the events by an online upgrade.
        op.execute("-- claims.facts are backfilled from the events by an online upgrade")
        return
    _backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("facts")
        batch.drop_column("base_payment_due")
        batch.drop_column("approval_due")


def _backfill(connection: sa.Connection) -> None:
    """Fold each claim's events (its stream and its payments') into its facts, in log order."""
    from services.ledger.store.tables import events

    claims = sa.table(
        "claims",
        sa.column("id", sa.String),
        sa.column("approval_due", sa.Date),
        sa.column("base_payment_due", sa.Date),
        sa.column("facts", json_type()),
    )
    allocations = sa.table(
        "allocations", sa.column("payment_id", sa.String), sa.column("claim_id", sa.String)
    )
    claim_ids = list(connection.execute(sa.select(claims.c.id).order_by(claims.c.id)).scalars())
    for start in range(0, len(claim_ids), _BATCH):
        batch = claim_ids[start : start + _BATCH]
        payment_streams = sa.select(sa.literal("payment-") + allocations.c.payment_id).where(
            allocations.c.claim_id.in_(batch)
        )
        rows = connection.execute(
            sa.select(events)
            .where(
                sa.or_(
                    events.c.stream_id.in_([f"claim-{i}" for i in batch]),
                    events.c.stream_id.in_(payment_streams),
                )
            )
            .order_by(events.c.global_position)
        ).all()
        decoded = [catalogue.from_stored(_stored(row)) for row in rows]
        for claim_id in batch:
            facts: list[dict[str, Any]] = []
            terms: Any = None
            for event in decoded:
                fact = fact_of(claim_id, event)
                if fact is None:
                    continue
                if terms is None and getattr(event, "claim_id", None) == claim_id:
                    terms = event
                facts.append(fact_to_json(fact))
            if terms is None:
                continue
            connection.execute(
                sa.update(claims)
                .where(claims.c.id == claim_id)
                .values(
                    approval_due=terms.approval_due,
                    base_payment_due=terms.payment_due,
                    facts=facts,
                )
            )


def _stored(row: Any) -> Any:
    from services.ledger.store.event_store import to_stored

    return to_stored(row)
