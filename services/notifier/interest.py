"""Late payment interest on a claim, for information: the Late Payment of Commercial Debts
(Interest) Act 1998.

- Simple interest at the statutory rate (Bank of England base rate + 8% a year) from the day
  after payment due, on each day's open amount, at 1/365 of the yearly rate per day (leap years
  too, as the Act's guidance does).
- The reference rate is fixed when the debt becomes overdue: the base rate in force on
  31 December for a debt first overdue between 1 January and 30 June, or on 30 June for one
  first overdue between 1 July and 31 December.
- Fixed compensation per overdue claim, shown separately: £40 for a debt under £1,000, £70
  under £10,000, £100 from £10,000, on the amount open when the claim first became overdue.

The day count follows the claim's own facts (`ClaimTimeline`): interest for day D is on the
amount open at the end of day D−1, provided the claim was overdue then (open, not queried,
not rejected or withdrawn, and D after its payment due as known then). So a claim paid on day
D pays for day D (the usual "days late" count), a part payment lowers the next day's amount,
a reversal raises it again, and while a query raised on or before payment due is open (the
dispute clock) nothing accrues; a query raised after payment due stops nothing.
The open amount is the approved amount less payments, or the claimed amount while a claim
waits for approval: a payer cannot escape lateness by not approving. A claim rejected or
withdrawn as at the date owes nothing.

Pure: the rates come in as a `BaseRateHistory` (see `services/notifier/data`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from shared.i18n import N_, gettext
from shared.money import round_half_up

from .model import FINAL, ClaimTimeline

STATUTORY_MARGIN_PERCENT = Decimal(8)
DAYS_IN_YEAR = Decimal(365)
ACT = "Late Payment of Commercial Debts (Interest) Act 1998"
# The note under every outstanding statement: English in the JSON (a program's), in the
# reader's language in the PDF. The Act's name is its own, in English, in both.
_INTEREST_NOTE = N_(
    "Interest is shown for information under the %(act)s: simple interest at the Bank of "
    "England base rate + 8%% a year from the day after payment due, on each day's open amount, "
    "at the base rate in force on 30 June or 31 December before the debt became overdue; plus "
    "fixed compensation per overdue claim of £40 (debt under £1,000), £70 (under £10,000) or "
    "£100 (£10,000 or more)."
)
INTEREST_NOTE = _INTEREST_NOTE % {"act": ACT}


def interest_note() -> str:
    """The interest note in the language of the moment."""
    return gettext(_INTEREST_NOTE, act=ACT)


# (debt below this many pence, compensation in pence); anything larger gets the last amount.
_COMPENSATION_BANDS = ((100_000, 4_000), (1_000_000, 7_000))
_LARGEST_COMPENSATION = 10_000


@dataclass(frozen=True)
class BaseRate:
    effective_from: date
    rate_percent: Decimal


@dataclass(frozen=True)
class BaseRateHistory:
    """Bank Rate changes, oldest first, and how far the history is known to be right.

    ``confirmed_to`` is the last day on which the history is known to be right (the last
    Monetary Policy Committee decision its authors checked); by default the last change's
    date. A rate asked for a later day is the last known one, but Bank Rate may have changed
    since: `is_unconfirmed` tells such a day."""

    rates: tuple[BaseRate, ...]
    confirmed_to: date = date.min  # date.min: the last change's date
    _days: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rates:
            raise ValueError("a base rate history needs at least one rate")
        object.__setattr__(self, "_days", tuple(rate.effective_from for rate in self.rates))
        if self.confirmed_to == date.min:
            object.__setattr__(self, "confirmed_to", self._days[-1])
        elif self.confirmed_to < self._days[-1]:
            raise ValueError(
                f"confirmed_to {self.confirmed_to.isoformat()} is before the last change "
                f"({self._days[-1].isoformat()})"
            )

    def is_unconfirmed(self, day: date) -> bool:
        """True when ``day`` is after ``confirmed_to``: its rate is the last known one, but
        nobody has checked that Bank Rate did not change by then."""
        return day > self.confirmed_to

    def rate_on(self, day: date) -> Decimal:
        """The base rate in force on ``day`` (the last change on or before it)."""
        index = bisect.bisect_right(self._days, day) - 1
        if index < 0:
            raise ValueError(
                f"no base rate is known on {day.isoformat()}: the history starts "
                f"{self.rates[0].effective_from.isoformat()}"
            )
        return self.rates[index].rate_percent


@dataclass(frozen=True)
class LateInterest:
    """Interest and compensation on one claim as at a date (zeros if never overdue)."""

    claim_id: str
    as_at: date
    overdue_from: date | None  # the first day interest ran
    reference_date: date | None  # 30 June or 31 December before overdue_from
    base_rate_percent: Decimal | None
    rate_percent: Decimal | None  # base + 8
    days: int  # days on which interest accrued
    debt_pence: int  # open when the claim first became overdue
    interest_pence: int
    compensation_pence: int

    @property
    def total_pence(self) -> int:
        return self.interest_pence + self.compensation_pence


def reference_date(overdue_from: date) -> date:
    """The day whose base rate applies to a debt first overdue on ``overdue_from``."""
    if overdue_from.month <= 6:
        return date(overdue_from.year - 1, 12, 31)
    return date(overdue_from.year, 6, 30)


def statutory_rate_percent(overdue_from: date, rates: BaseRateHistory) -> Decimal:
    """The yearly rate for a debt first overdue on ``overdue_from``: reference rate + 8%."""
    return rates.rate_on(reference_date(overdue_from)) + STATUTORY_MARGIN_PERCENT


def fixed_compensation_pence(debt_pence: int) -> int:
    """£40 for a debt under £1,000, £70 under £10,000, £100 from £10,000; nothing if no debt."""
    if debt_pence <= 0:
        return 0
    for below, amount in _COMPENSATION_BANDS:
        if debt_pence < below:
            return amount
    return _LARGEST_COMPENSATION


@dataclass(frozen=True)
class _Stretch:
    first_day: date  # the first day interest accrued in this stretch
    days: int
    open_pence: int


def _overdue_stretches(timeline: ClaimTimeline, as_at: date) -> list[_Stretch]:
    """The runs of days, up to ``as_at``, on which interest accrued, each on one amount.

    Between two consecutive fact dates the claim's state is constant, so interest for day D
    (on the state at the end of D−1) can be counted a stretch at a time.
    """
    fact_days = sorted({fact.on for fact in timeline.facts if fact.on <= as_at})
    stretches = []
    for index, day in enumerate(fact_days):
        state = timeline.state_as_at(day)
        assert state is not None
        if state.clock_paused or state.status in FINAL or state.open_pence <= 0:
            continue
        # Interest days D with D−1 in [day, next day − 1], D after payment due, D ≤ as_at.
        last = fact_days[index + 1] if index + 1 < len(fact_days) else as_at
        start = max(day, state.payment_due)
        if last > start:
            stretches.append(
                _Stretch(start + timedelta(days=1), (last - start).days, state.open_pence)
            )
    return stretches


def late_payment_interest(
    timeline: ClaimTimeline, as_at: date, rates: BaseRateHistory
) -> LateInterest:
    """Statutory interest accrued on one claim up to and including ``as_at``, and the fixed
    compensation once it has been overdue; rounded half up to the penny."""
    state = timeline.state_as_at(as_at)
    stretches = (
        [] if state is None or state.status in FINAL else _overdue_stretches(timeline, as_at)
    )
    if not stretches:
        return LateInterest(timeline.claim_id, as_at, None, None, None, None, 0, 0, 0, 0)
    overdue_from = stretches[0].first_day
    reference = reference_date(overdue_from)
    base = rates.rate_on(reference)
    rate = base + STATUTORY_MARGIN_PERCENT
    pence_days = sum(stretch.open_pence * stretch.days for stretch in stretches)
    interest = Decimal(pence_days) * rate / (Decimal(100) * DAYS_IN_YEAR)
    debt = stretches[0].open_pence
    return LateInterest(
        claim_id=timeline.claim_id,
        as_at=as_at,
        overdue_from=overdue_from,
        reference_date=reference,
        base_rate_percent=base,
        rate_percent=rate,
        days=sum(stretch.days for stretch in stretches),
        debt_pence=debt,
        interest_pence=round_half_up(interest),
        compensation_pence=fixed_compensation_pence(debt),
    )
