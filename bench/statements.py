"""P6: monthly statements for 1,000 organisations × 12 months of claims (JSON + PDF) ≤ 30 s.

Builds a notifier read model on a fresh SQLite database (not timed): `--orgs` VCSE
organisations, ten to a partnership with one statutory payer, each with four claims a month for
`--months` months, moved along by seeded random approvals (some partial), queries, a monthly
payment run that pays some claims late, and the odd reversal. The claim rows are written in the
projection's own shape (`ClaimTimeline` facts folded from the real event dataclasses).

Then, timed: `monthly_statements` on the first working day of the following month (load,
build and record every pair's activity and outstanding statements), and each statement
rendered as JSON and as PDF.

    .venv/bin/python bench/statements.py              # the P6 figure
    .venv/bin/python bench/statements.py --orgs 100   # quicker
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert  # noqa: E402

from services.notifier.data import load_base_rates  # noqa: E402
from services.notifier.model import ClaimTimeline  # noqa: E402
from services.notifier.projection import claim_row  # noqa: E402
from services.notifier.statements import Statement, monthly_statements, render  # noqa: E402
from services.notifier.statements.production import first_working_day  # noqa: E402
from services.notifier.store.migrate import upgrade  # noqa: E402
from services.notifier.store.tables import (  # noqa: E402
    agreements,
    claims,
    organisations,
    partnerships,
)
from shared.events.types import (  # noqa: E402
    DEFAULT_REMINDER_SCHEDULE,
    Allocation,
    ClaimApproved,
    ClaimLine,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimSubmitted,
    PaymentRecorded,
    PaymentReversed,
)
from shared.sql import begin_write, make_engine  # noqa: E402

GOAL_SECONDS = 30.0
ORGS_PER_PARTNERSHIP = 10
CLAIMS_PER_MONTH = 4
HOURLY_PENCE = 2500
FIRST_MONTH = date(2025, 1, 1)


def _months(count: int) -> Iterator[tuple[date, date]]:
    start = FIRST_MONTH
    for _ in range(count):
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        yield start, following - timedelta(days=1)
        start = following


def _organisation_history(
    rng: random.Random, partnership_id: str, payer_id: str, payee_id: str, months: int
) -> list[ClaimTimeline]:
    """One VCSE organisation's claims on its payer, as the projection would fold them."""
    end_of_data = list(_months(months))[-1][1]
    timelines: dict[str, ClaimTimeline] = {}
    approved: dict[str, tuple[date, int]] = {}  # open approved claims: approval date, owed
    for month_start, month_end in _months(months):
        for _ in range(CLAIMS_PER_MONTH):
            submitted_on = month_start + timedelta(days=rng.randrange(month_end.day))
            hours = Decimal(rng.choice(("1", "2", "2.5", "3", "4")))
            amount = int(hours * HOURLY_PENCE)
            claim_id = str(uuid.UUID(int=rng.getrandbits(128)))
            line = ClaimLine(submitted_on, hours, "meeting", "A. Worker", "Board", amount, "hourly")
            submitted = ClaimSubmitted(
                claim_id=claim_id,
                agreement_id=f"agreement-{payee_id}",
                partnership_id=partnership_id,
                payer_id=payer_id,
                payee_id=payee_id,
                submitted_by="member",
                submitted_on=submitted_on,
                lines=(line,),
                expenses=(),
                amount_pence=amount,
                approval_due=submitted_on + timedelta(days=7),
                payment_due=submitted_on + timedelta(days=30),
            )
            timeline = ClaimTimeline.submitted(submitted)
            decided_on = submitted_on + timedelta(days=rng.randint(1, 25))
            if rng.random() < 0.1:
                asked = submitted_on + timedelta(days=1)
                answered = asked + timedelta(days=rng.randint(1, 10))
                timeline = timeline.apply(ClaimQueried(claim_id, "approver", asked, "Which?"))
                timeline = timeline.apply(ClaimQueryAnswered(claim_id, "member", answered, "This"))
                decided_on = answered + timedelta(days=rng.randint(1, 10))
            if decided_on <= end_of_data and rng.random() < 0.95:
                share = 100 if rng.random() < 0.85 else rng.choice((50, 75))
                approved_pence = amount * share // 100
                timeline = timeline.apply(
                    ClaimApproved(claim_id, "approver", decided_on, approved_pence, amount, None)
                )
                approved[claim_id] = (decided_on, approved_pence)
            timelines[claim_id] = timeline
        # The monthly payment run: most approved claims, some left to go late.
        run_day = month_start + timedelta(days=19)
        due = [
            claim_id
            for claim_id, (approved_on, _) in approved.items()
            if approved_on <= run_day and rng.random() < 0.8
        ]
        if due:
            allocations = tuple(Allocation(c, approved.pop(c)[1]) for c in due)
            payment = PaymentRecorded(
                payment_id=str(uuid.UUID(int=rng.getrandbits(128))),
                partnership_id=partnership_id,
                payer_id=payer_id,
                payee_id=payee_id,
                recorded_by="finance",
                paid_on=run_day,
                reference=f"BACS {rng.randint(1000, 9999)}",
                amount_pence=sum(a.amount_pence for a in allocations),
                allocations=allocations,
            )
            for allocation in allocations:
                timelines[allocation.claim_id] = timelines[allocation.claim_id].apply(payment)
            if rng.random() < 0.03:
                reversal = PaymentReversed(
                    payment.payment_id,
                    partnership_id,
                    payer_id,
                    payee_id,
                    "finance",
                    run_day + timedelta(days=3),
                    "Returned by the bank",
                    allocations,
                )
                for allocation in allocations:
                    timelines[allocation.claim_id] = timelines[allocation.claim_id].apply(reversal)
                    approved[allocation.claim_id] = (run_day, allocation.amount_pence)
    return list(timelines.values())


def build_read_model(engine: Engine, orgs: int, months: int, seed: int) -> int:
    """Write the read model; return the number of claims."""
    rng = random.Random(seed)
    total = 0
    with begin_write(engine) as connection:
        for first in range(0, orgs, ORGS_PER_PARTNERSHIP):
            partnership_id = f"partnership-{first // ORGS_PER_PARTNERSHIP:04d}"
            payer_id = f"icb-{first // ORGS_PER_PARTNERSHIP:04d}"
            payees = [
                f"vcse-{n:05d}" for n in range(first, min(first + ORGS_PER_PARTNERSHIP, orgs))
            ]
            connection.execute(
                insert(organisations),
                [{"id": payer_id, "name": f"Integrated Care Board {payer_id}", "kind": "statutory"}]
                + [{"id": p, "name": f"Community Trust {p}", "kind": "vcse"} for p in payees],
            )
            connection.execute(
                insert(partnerships).values(
                    id=partnership_id,
                    name=f"Health Equity Partnership {partnership_id}",
                    organisation_ids=[payer_id, *payees],
                )
            )
            connection.execute(
                insert(agreements),
                [
                    {
                        "id": f"agreement-{payee}",
                        "partnership_id": partnership_id,
                        "payer_id": payer_id,
                        "payee_id": payee,
                        "nation": "england",
                        "starts_on": FIRST_MONTH,
                        "ends_on": date(2027, 3, 31),
                        "budget_pence": None,
                        "payment_terms_days": 30,
                        "approval_sla_working_days": 5,
                        "reminder_schedule": list(DEFAULT_REMINDER_SCHEDULE),
                    }
                    for payee in payees
                ],
            )
            rows = []
            for payee in payees:
                for timeline in _organisation_history(rng, partnership_id, payer_id, payee, months):
                    total += 1
                    rows.append(claim_row(timeline, total))
            connection.execute(insert(claims), rows)
    return total


def _render_both(statement: Statement) -> int:
    json_bytes, _, _ = render(statement, "json")
    pdf_bytes, _, _ = render(statement, "pdf")
    return len(json_bytes) + len(pdf_bytes)


def _render_chunk(chunk: list[Statement]) -> int:
    return sum(_render_both(statement) for statement in chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=1000, help="VCSE organisations (1000)")
    parser.add_argument("--months", type=int, default=12, help="months of claims (12)")
    parser.add_argument("--seed", type=int, default=6, help="random seed (6)")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes rendering JSON and PDF (1)"
    )
    parser.add_argument("--profile", action="store_true", help="print the top of a profile")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/notifier.db"
        upgrade(url)
        engine = make_engine(url, sqlite_synchronous="NORMAL")
        started = time.perf_counter()
        claim_count = build_read_model(engine, args.orgs, args.months, args.seed)
        setup = time.perf_counter() - started
        last_month_end = list(_months(args.months))[-1][1]
        following = last_month_end + timedelta(days=1)
        as_of = first_working_day(following.year, following.month, "england")
        now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
        rates = load_base_rates()
        print(
            f"seed={args.seed} orgs={args.orgs} months={args.months} claims={claim_count} "
            f"setup={setup:.1f}s (not timed) as_of={as_of}"
        )

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        with begin_write(engine) as connection:
            produced = monthly_statements(connection, as_of, now, rates=rates)
        production = time.perf_counter() - started
        rendered = 0
        if args.workers > 1:
            chunks = [produced[i :: args.workers] for i in range(args.workers)]
            with ProcessPoolExecutor(args.workers) as pool:
                rendered = sum(pool.map(_render_chunk, chunks))
        else:
            rendered = _render_chunk(produced)
        total = time.perf_counter() - started
        if profiler:
            profiler.disable()
        engine.dispose()

    assert len(produced) == 2 * args.orgs, len(produced)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    verdict = "met" if total <= GOAL_SECONDS else "MISSED"
    print(
        f"P6 monthly statements: statements={len(produced)} "
        f"production={production:.1f}s render_json_pdf={total - production:.1f}s "
        f"bytes={rendered} total={total:.1f}s goal<={GOAL_SECONDS:.0f}s {verdict}"
    )


if __name__ == "__main__":
    main()
