"""Two-sided queue transparency: where an open claim stands in its payer's approval queue, and
how long each clock has left. The VCSE organisation and the payer see the same numbers.

- **The approval queue** of a payer is its claims waiting for a decision (status `submitted`),
  most urgent first: approval due, then receipt, then id (`queue_key`, the order of the
  approvals page too; claim ids are time-ordered, so within a day the first made goes first).
  A queried claim is out of the queue while it waits on the VCSE side. A claim's place is
  counted from the payer's claims per day (`queue_days`, kept by the projections with
  `count_in_queue`), so it costs the same however long the queue is.
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

from sqlalchemy import Connection, bindparam, delete, func, select, tuple_, update

from shared.calendar import working_days_between
from shared.claim_position import UNDECIDED, Position
from shared.sql import insert_for

from .store.views import agreements, claims, queue_days

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


def _places() -> Any:
    """(place, length) of each claim in `claim_ids` that is in its payer's queue, from the
    payer's day counts (`queue_days`): the claims of every day up to the claim's own (approval
    due, submitted on), less those of its own day after it in `queue_key` order (counted along
    the queue index), and the sum of all the payer's days. It reads a row per day of the
    payer's queue and its own day's claims behind it, never the claims ahead: claims made
    since migration 0013 have time-ordered ids, so the one just submitted has none behind it
    (0 to a few made in the same millisecond)."""
    mine = claims.alias("mine")
    day = queue_days.alias("day")
    same_day = claims.alias("same_day")
    of_payer = day.c.payer_id == mine.c.payer_id
    up_to_my_day = (
        select(func.coalesce(func.sum(day.c.claims), 0))
        .where(
            of_payer,
            tuple_(day.c.approval_due, day.c.submitted_on)
            <= tuple_(mine.c.approval_due, mine.c.submitted_on),
        )
        .scalar_subquery()
    )
    behind_me = (
        select(func.count())
        .select_from(same_day)
        .where(
            same_day.c.payer_id == mine.c.payer_id,
            same_day.c.status == IN_QUEUE,
            same_day.c.approval_due == mine.c.approval_due,
            same_day.c.submitted_on == mine.c.submitted_on,
            same_day.c.id > mine.c.id,
        )
        .scalar_subquery()
    )
    length = select(func.coalesce(func.sum(day.c.claims), 0)).where(of_payer).scalar_subquery()
    return select(
        mine.c.id, (up_to_my_day - behind_me).label("place"), length.label("length")
    ).where(
        mine.c.id.in_(bindparam("claim_ids", expanding=True)),
        mine.c.status == IN_QUEUE,
        mine.c.approval_due.is_not(None),
    )


_PLACES = _places()


def places_in_queue(connection: Connection, claim_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(place, queue length) of each claim among `claim_ids` that is in its payer's queue, in
    one query whatever the number of claims (a claim not in the queue has no entry)."""
    if not claim_ids:
        return {}
    rows = connection.execute(_PLACES, {"claim_ids": list(claim_ids)}).all()
    return {row.id: (int(row.place), int(row.length)) for row in rows}


def count_in_queue(connection: Connection, claim: Any, before: str | None, after: str) -> None:
    """Keep the claim's day count in its payer's queue (`queue_days`) as its status goes from
    `before` (None: a new claim) to `after`: one more when it enters the queue, one fewer
    when it leaves (its day's row goes at 0). `claim` has the view row's payer_id,
    approval_due and submitted_on. In the projection's transaction, after the claim's own
    row (the view's lock order: claims, then queue days, then totals)."""
    entering, leaving = after == IN_QUEUE, before == IN_QUEUE
    if entering == leaving or claim.approval_due is None:
        return
    day = {"payer": claim.payer_id, "due": claim.approval_due, "on": claim.submitted_on}
    if entering:
        connection.execute(_enter_statement(connection), day)
        return
    if connection.execute(_LEAVE, day).rowcount != 1:  # the counts would be wrong from here
        raise RuntimeError(f"queue_days has no row for {day!r} to count a claim out of")
    connection.execute(_EMPTIED, day)


_DAY = (
    (queue_days.c.payer_id == bindparam("payer"))
    & (queue_days.c.approval_due == bindparam("due"))
    & (queue_days.c.submitted_on == bindparam("on"))
)
_LEAVE = update(queue_days).where(_DAY).values(claims=queue_days.c.claims - 1)
_EMPTIED = delete(queue_days).where(_DAY, queue_days.c.claims == 0)


def _enter_statement(connection: Connection) -> Any:
    """INSERT the day with 1 claim, or add 1 to it: one statement (the dialect's upsert, from
    `shared.sql.insert_for`), built once per dialect."""
    name = connection.dialect.name
    statement = _ENTER.get(name)
    if statement is None:
        insert = insert_for(connection, queue_days).values(
            payer_id=bindparam("payer"),
            approval_due=bindparam("due"),
            submitted_on=bindparam("on"),
            claims=1,
        )
        statement = _ENTER[name] = insert.on_conflict_do_update(
            index_elements=["payer_id", "approval_due", "submitted_on"],
            set_={"claims": queue_days.c.claims + 1},
        )
    return statement


_ENTER: dict[str, Any] = {}


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
