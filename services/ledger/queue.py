"""Two-sided queue transparency: where an open claim stands in its payer's approval queue, and
how long each clock has left. The VCSE organisation and the payer see the same numbers.

- **The approval queue** of a payer is its claims waiting for a decision (status `submitted`),
  most urgent first: approval due, then receipt, then id (`queue_key`, the order of the
  approvals page too). A queried claim is out of the queue while it waits on the VCSE side.
- **Working days left on the approval SLA**: working days (the agreement's nation's calendar,
  `shared.calendar`) from today to approval due; 0 on the day it is due, negative once late.
  Only while the claim is undecided (a query does not pause it).
- **Days left to payment due**: calendar days from today to payment due as the claim's
  position has it (`shared.claim_position`, with the dispute clock); negative once overdue.
  Only while something is still owed or awaiting approval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, tuple_

from shared.calendar import working_days_between
from shared.claim_position import UNDECIDED, Position

from .store.views import agreements, claims

IN_QUEUE = "submitted"


def queue_key(claim: Mapping[str, Any]) -> tuple[Any, ...]:
    """The approval queue's order, most urgent first."""
    return (claim["approval_due"], claim["submitted_on"], claim["id"])


@dataclass(frozen=True)
class QueueStanding:
    place: int | None  # 1 = next to be decided; None when not in the queue
    of: int | None  # claims in the payer's queue
    approval_working_days_left: int | None
    payment_days_left: int | None

    def to_json(self) -> dict[str, int | None]:
        return {
            "place": self.place,
            "of": self.of,
            "approval_working_days_left": self.approval_working_days_left,
            "payment_days_left": self.payment_days_left,
        }


NOT_OPEN = QueueStanding(None, None, None, None)


def standing(
    position: Position | None, today: date, nation: str | None, place: tuple[int, int] | None
) -> QueueStanding:
    """A claim's standing today, from its position, its agreement's nation and its place."""
    if position is None or not position.is_open:
        return NOT_OPEN
    approval = None
    if position.status in UNDECIDED and nation is not None:
        approval = working_days_between(today, position.approval_due, nation)
    return QueueStanding(
        place[0] if place else None,
        place[1] if place else None,
        approval,
        (position.payment_due - today).days,
    )


def _place_of_one() -> Any:
    """(place, length) of one claim by counting, not ranking: the claims of its payer's queue
    before it in `queue_key` order (approval due, submitted on, id; all NOT NULL for a claim in
    the queue), along the payer's queue index. A submission asks this for the claim it just
    made, so it must not sort the payer's whole queue (a cost that grew with the queue)."""
    mine = claims.alias("mine")
    queue = claims.alias("queue")
    in_queue = and_(queue.c.payer_id == mine.c.payer_id, queue.c.status == IN_QUEUE)
    # A row-value comparison: both databases scan it as one range of the queue index.
    before = tuple_(queue.c.approval_due, queue.c.submitted_on, queue.c.id) <= tuple_(
        mine.c.approval_due, mine.c.submitted_on, mine.c.id
    )
    place = select(func.count()).select_from(queue).where(in_queue, before).scalar_subquery()
    length = select(func.count()).select_from(queue).where(in_queue).scalar_subquery()
    return select(mine.c.id, place.label("place"), length.label("length")).where(
        mine.c.id == bindparam("claim_id"),
        mine.c.status == IN_QUEUE,
        mine.c.approval_due.is_not(None),
    )


_PLACE_OF_ONE = _place_of_one()


def places_in_queue(connection: Connection, claim_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(place, queue length) of each claim among `claim_ids` that is in its payer's queue, in
    one query whatever the number of claims."""
    if not claim_ids:
        return {}
    if len(claim_ids) == 1:
        # Settles it either way: a claim that is not in the queue has no row here, and
        # ranking its payer's queue would not find it either.
        row = connection.execute(_PLACE_OF_ONE, {"claim_id": claim_ids[0]}).first()
        return {} if row is None else {row.id: (int(row.place), int(row.length))}
    payers = select(claims.c.payer_id).where(claims.c.id.in_(list(claim_ids)))
    ranked = (
        select(
            claims.c.id,
            func.row_number()
            .over(
                partition_by=claims.c.payer_id,
                order_by=(claims.c.approval_due, claims.c.submitted_on, claims.c.id),
            )
            .label("place"),
            func.count().over(partition_by=claims.c.payer_id).label("length"),
        )
        .where(claims.c.status == IN_QUEUE, claims.c.payer_id.in_(payers))
        .subquery()
    )
    rows = connection.execute(
        select(ranked.c.id, ranked.c.place, ranked.c.length).where(ranked.c.id.in_(list(claim_ids)))
    ).all()
    return {row.id: (int(row.place), int(row.length)) for row in rows}


def nations_of(connection: Connection, agreement_ids: Sequence[str]) -> dict[str, str | None]:
    """Each agreement's nation (whose bank holidays are not working days)."""
    if not agreement_ids:
        return {}
    rows = connection.execute(
        select(agreements.c.id, agreements.c.nation).where(
            agreements.c.id.in_(sorted(set(agreement_ids)))
        )
    ).all()
    return {row.id: row.nation for row in rows}
