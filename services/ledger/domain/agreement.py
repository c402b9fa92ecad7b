"""Funding agreements: who pays whom, at what rates, on what terms; and pricing a line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TypeVar

from shared.calendar import NATIONS
from shared.events.types import (
    ACTIVITIES,
    DEFAULT_REMINDER_SCHEDULE,
    ActivityRates,
    AgreementAmended,
    AgreementEvent,
    AgreementSigned,
    RateCard,
)
from shared.messages import N_
from shared.money import round_half_up

from .organisation import Organisation
from .partnership import Partnership
from .validation import Problems

MAX_PAYMENT_TERMS_DAYS = 30
MAX_APPROVAL_SLA_WORKING_DAYS = 30
PAYMENT_TERMS_RULE = N_(
    "must be between 1 and 30 days: public bodies must pay valid undisputed invoices "
    "within 30 days (Public Contracts Regulations 2015 reg. 113)"
)
DAY_HOURS = Decimal(7)
HALF_DAY_HOURS = Decimal("3.5")
MAX_REMINDERS = 12
REMINDER_RANGE = (-30, 365)

_RATE_KINDS = ("hourly_pence", "half_day_pence", "day_pence")
T = TypeVar("T")


@dataclass(frozen=True)
class Agreement:
    """An agreement's current terms, rebuilt from AgreementSigned and its amendments."""

    id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    nation: str
    starts_on: date
    ends_on: date
    rates: RateCard
    budget_pence: int | None
    payment_terms_days: int
    approval_sla_working_days: int
    reminder_schedule: tuple[int, ...]
    version: int = 1

    @classmethod
    def replay(cls, events: Sequence[AgreementEvent]) -> Agreement:
        """Rebuild from the agreement's stream, AgreementSigned first."""
        if not events or not isinstance(events[0], AgreementSigned):
            raise ValueError("an agreement's stream starts with AgreementSigned")
        signed = events[0]
        agreement = cls(
            id=signed.agreement_id,
            partnership_id=signed.partnership_id,
            payer_id=signed.payer_id,
            payee_id=signed.payee_id,
            nation=signed.nation,
            starts_on=signed.starts_on,
            ends_on=signed.ends_on,
            rates=signed.rates,
            budget_pence=signed.budget_pence,
            payment_terms_days=signed.payment_terms_days,
            approval_sla_working_days=signed.approval_sla_working_days,
            reminder_schedule=signed.reminder_schedule,
        )
        for event in events[1:]:
            agreement = agreement.apply(event)
        return agreement

    def apply(self, event: AgreementEvent) -> Agreement:
        if not isinstance(event, AgreementAmended) or event.agreement_id != self.id:
            raise ValueError(f"{type(event).__name__} does not amend agreement {self.id}")
        return replace(
            self,
            budget_pence=_or(event.budget_pence, self.budget_pence),
            ends_on=_or(event.ends_on, self.ends_on),
            payment_terms_days=_or(event.payment_terms_days, self.payment_terms_days),
            approval_sla_working_days=_or(
                event.approval_sla_working_days, self.approval_sla_working_days
            ),
            rates=_or(event.rates, self.rates),
            reminder_schedule=_or(event.reminder_schedule, self.reminder_schedule),
            version=self.version + 1,
        )

    def covers(self, day: date) -> bool:
        """Whether work on ``day`` falls inside the agreement's validity period."""
        return self.starts_on <= day <= self.ends_on

    def amend(
        self,
        *,
        budget_pence: object = None,
        ends_on: object = None,
        payment_terms_days: object = None,
        approval_sla_working_days: object = None,
        rates: RateCard | Mapping[str, object] | None = None,
        reminder_schedule: object = None,
    ) -> AgreementAmended:
        """Change some terms (None leaves a term as it is; a budget cannot be removed).

        New terms apply to claims submitted afterwards; a submitted claim keeps the clocks it
        was given, and is repriced at the new rates only if it is amended.
        """
        problems = Problems()
        budget = problems.pence(budget_pence, "budget_pence", required=False)
        new_end: date | None = None
        if ends_on is not None:
            new_end = problems.day(ends_on, "ends_on")
            if new_end is not None and new_end < self.starts_on:
                problems.add("ends_on", N_("must not be before starts_on"))
        terms = (
            _payment_terms(problems, payment_terms_days) if payment_terms_days is not None else None
        )
        sla = (
            _sla(problems, approval_sla_working_days)
            if approval_sla_working_days is not None
            else None
        )
        card = read_rate_card(problems, rates, "rates") if rates is not None else None
        schedule = (
            _reminders(problems, reminder_schedule) if reminder_schedule is not None else None
        )
        if not problems and all(v is None for v in (budget, new_end, terms, sla, card, schedule)):
            problems.add("_schema", N_("nothing to change"))
        problems.raise_if_any()
        return AgreementAmended(
            agreement_id=self.id,
            budget_pence=budget,
            ends_on=new_end,
            payment_terms_days=terms,
            approval_sla_working_days=sla,
            rates=card,
            reminder_schedule=schedule,
        )


def sign_agreement(
    agreement_id: str,
    partnership: Partnership,
    *,
    payer_id: object,
    payee_id: object,
    organisations: Mapping[str, Organisation],
    nation: object,
    starts_on: object,
    ends_on: object,
    rates: RateCard | Mapping[str, object],
    budget_pence: object = None,
    payment_terms_days: object = 30,
    approval_sla_working_days: object = 5,
    reminder_schedule: object = DEFAULT_REMINDER_SCHEDULE,
) -> AgreementSigned:
    """Sign an agreement between a statutory payer and a VCSE payee of the partnership.

    ``organisations`` holds the known organisations by id. ``reminder_schedule`` None means
    the default (3 days before payment due, then 1, 7, 14 and 21 days overdue).
    """
    problems = Problems()
    payer = _party(problems, payer_id, "payer_id", "statutory", partnership, organisations)
    payee = _party(problems, payee_id, "payee_id", "vcse", partnership, organisations)
    checked_nation = problems.choice(nation, "nation", NATIONS)
    start = problems.day(starts_on, "starts_on")
    end = problems.day(ends_on, "ends_on")
    if start is not None and end is not None and end < start:
        problems.add("ends_on", N_("must not be before starts_on"))
    card = read_rate_card(problems, rates, "rates")
    budget = problems.pence(budget_pence, "budget_pence", required=False)
    terms = _payment_terms(problems, payment_terms_days)
    sla = _sla(problems, approval_sla_working_days)
    schedule = _reminders(
        problems, DEFAULT_REMINDER_SCHEDULE if reminder_schedule is None else reminder_schedule
    )
    problems.raise_if_any()
    assert payer is not None and payee is not None and checked_nation is not None
    assert start is not None and end is not None and card is not None
    assert terms is not None and sla is not None and schedule is not None
    return AgreementSigned(
        agreement_id=agreement_id,
        partnership_id=partnership.id,
        payer_id=payer.id,
        payee_id=payee.id,
        nation=checked_nation,
        starts_on=start,
        ends_on=end,
        rates=card,
        budget_pence=budget,
        payment_terms_days=terms,
        approval_sla_working_days=sla,
        reminder_schedule=schedule,
    )


def price_line(rates: Agreement | RateCard, activity: str, hours: Decimal) -> tuple[int, str]:
    """The amount in pence and the rate basis of one line.

    Each kind of rate is looked up on the activity first, then on the default card, so an
    activity with only its own hourly rate still gets the default half-day and day rates.
    7 hours or more with a day rate is a day; 3.5 or more with a half-day rate is a half day
    (also for 7 hours or more when there is no day rate, as the contract says); otherwise
    hours × hourly rate, rounded half up to the penny.
    """
    card = rates.rates if isinstance(rates, Agreement) else rates
    own = card.for_activity(activity) or ActivityRates()
    hourly = _or(own.hourly_pence, card.hourly_pence)
    half_day = _or(own.half_day_pence, card.half_day_pence)
    day = _or(own.day_pence, card.day_pence)
    if hours >= DAY_HOURS and day is not None:
        return day, "day"
    if hours >= HALF_DAY_HOURS and half_day is not None:
        return half_day, "half_day"
    return round_half_up(hours * hourly), "hourly"


def read_rate_card(
    problems: Problems, value: RateCard | Mapping[str, object] | object, path: str
) -> RateCard | None:
    """A rate card from a RateCard or its JSON shape (``by_activity`` as an object)."""
    raw = _rate_card_as_mapping(value) if isinstance(value, RateCard) else value
    card = problems.mapping(raw, path, (*_RATE_KINDS, "by_activity"))
    if card is None:
        return None
    hourly = problems.pence(card.get("hourly_pence"), f"{path}.hourly_pence")
    half_day = problems.pence(card.get("half_day_pence"), f"{path}.half_day_pence", required=False)
    day = problems.pence(card.get("day_pence"), f"{path}.day_pence", required=False)
    overrides: list[tuple[str, ActivityRates]] = []
    by_activity = card.get("by_activity")
    if by_activity is not None:
        activities = problems.mapping(by_activity, f"{path}.by_activity", ACTIVITIES)
        for activity, rates in (activities or {}).items():
            if activity not in ACTIVITIES:
                continue  # already reported as an unknown field
            own_path = f"{path}.by_activity.{activity}"
            own = problems.mapping(rates, own_path, _RATE_KINDS)
            if own is None:
                continue
            values = [
                problems.pence(own.get(kind), f"{own_path}.{kind}", required=False)
                for kind in _RATE_KINDS
            ]
            if all(own.get(kind) is None for kind in _RATE_KINDS):
                problems.add(own_path, N_("give at least one rate"))
            overrides.append((activity, ActivityRates(*values)))
    if hourly is None:
        return None
    return RateCard(hourly, half_day, day, tuple(overrides))


def _rate_card_as_mapping(card: RateCard) -> dict[str, object]:
    return {
        "hourly_pence": card.hourly_pence,
        "half_day_pence": card.half_day_pence,
        "day_pence": card.day_pence,
        "by_activity": {
            activity: {
                "hourly_pence": rates.hourly_pence,
                "half_day_pence": rates.half_day_pence,
                "day_pence": rates.day_pence,
            }
            for activity, rates in card.by_activity
        },
    }


def _party(
    problems: Problems,
    organisation_id: object,
    path: str,
    kind: str,
    partnership: Partnership,
    organisations: Mapping[str, Organisation],
) -> Organisation | None:
    if organisation_id is None:
        problems.add(path, N_("is required"))
        return None
    if not isinstance(organisation_id, str) or organisation_id not in organisations:
        problems.add(path, N_("unknown organisation"))
        return None
    organisation = organisations[organisation_id]
    if organisation.kind != kind:
        problems.add(
            path,
            N_("the payer must be a statutory organisation")
            if path == "payer_id"
            else N_("the payee must be a VCSE organisation"),
        )
        return None
    if not partnership.has_member(organisation.id):
        problems.add(
            path,
            N_("the payer is not a member of this partnership")
            if path == "payer_id"
            else N_("the payee is not a member of this partnership"),
        )
        return None
    return organisation


def _payment_terms(problems: Problems, value: object) -> int | None:
    return problems.whole_number(
        value,
        "payment_terms_days",
        minimum=1,
        maximum=MAX_PAYMENT_TERMS_DAYS,
        rule=PAYMENT_TERMS_RULE,
    )


def _sla(problems: Problems, value: object) -> int | None:
    return problems.whole_number(
        value, "approval_sla_working_days", minimum=0, maximum=MAX_APPROVAL_SLA_WORKING_DAYS
    )


def _reminders(problems: Problems, value: object) -> tuple[int, ...] | None:
    """Day offsets from payment due (negative = before), kept sorted."""
    path = "reminder_schedule"
    offsets = problems.items(value, path, minimum=0, maximum=MAX_REMINDERS, noun="reminder")
    checked: list[int] = []
    low, high = REMINDER_RANGE
    for index, offset in enumerate(offsets):
        day = problems.whole_number(offset, f"{path}.{index}", minimum=low, maximum=high)
        if day is None:
            continue
        if day in checked:
            problems.add(f"{path}.{index}", N_("is listed twice"))
        else:
            checked.append(day)
    if problems.errors.get(path) or any(p.startswith(f"{path}.") for p in problems.errors):
        return None
    return tuple(sorted(checked))


def _or(value: T | None, fallback: T) -> T:
    return fallback if value is None else value
