from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.ledger.domain.agreement import Agreement, price_line, sign_agreement
from services.ledger.domain.errors import ValidationFailed
from shared.events.types import ActivityRates, AgreementSigned, RateCard

from .builders import ORGANISATIONS, PARTNERSHIP, RATES, agreement

CARD = RateCard.of(
    hourly_pence=2333,
    half_day_pence=8000,
    day_pence=15000,
    by_activity={
        "training": ActivityRates(hourly_pence=2000),
        "co_design": ActivityRates(hourly_pence=3000, half_day_pence=10000, day_pence=19000),
        "buddy_scheme": ActivityRates(day_pence=12000),
    },
)
HOURLY_ONLY = RateCard.of(hourly_pence=2500)


def test_hourly_rounds_half_up_to_the_penny() -> None:
    # 2.75 × 2333 = 6415.75 → 6416
    assert price_line(CARD, "meeting", Decimal("2.75")) == (6416, "hourly")
    # 0.5 × 2333 = 1166.5 → 1167
    assert price_line(CARD, "meeting", Decimal("0.5")) == (1167, "hourly")
    assert price_line(CARD, "meeting", Decimal("0.25")) == (583, "hourly")  # 583.25


def test_half_day_and_day_thresholds() -> None:
    assert price_line(CARD, "meeting", Decimal("3.25")) == (7582, "hourly")  # 7582.25
    assert price_line(CARD, "meeting", Decimal("3.5")) == (8000, "half_day")
    assert price_line(CARD, "meeting", Decimal("6.75")) == (8000, "half_day")
    assert price_line(CARD, "meeting", Decimal("7")) == (15000, "day")
    assert price_line(CARD, "meeting", Decimal("24")) == (15000, "day")


def test_without_half_day_or_day_rates_everything_is_hourly() -> None:
    assert price_line(HOURLY_ONLY, "meeting", Decimal("8")) == (20000, "hourly")
    assert price_line(HOURLY_ONLY, "meeting", Decimal("3.5")) == (8750, "hourly")


def test_half_day_rate_applies_to_long_lines_when_there_is_no_day_rate() -> None:
    card = RateCard.of(hourly_pence=2500, half_day_pence=8000)
    assert price_line(card, "meeting", Decimal("8")) == (8000, "half_day")


def test_activity_rate_first() -> None:
    assert price_line(CARD, "co_design", Decimal("2")) == (6000, "hourly")
    assert price_line(CARD, "co_design", Decimal("4")) == (10000, "half_day")
    assert price_line(CARD, "co_design", Decimal("7.5")) == (19000, "day")


def test_each_rate_kind_falls_back_to_the_default_card() -> None:
    # training has its own hourly rate only: default half-day and day rates still apply.
    assert price_line(CARD, "training", Decimal("2")) == (4000, "hourly")
    assert price_line(CARD, "training", Decimal("3.5")) == (8000, "half_day")
    assert price_line(CARD, "training", Decimal("7")) == (15000, "day")
    # buddy_scheme has its own day rate only.
    assert price_line(CARD, "buddy_scheme", Decimal("1")) == (2333, "hourly")
    assert price_line(CARD, "buddy_scheme", Decimal("7")) == (12000, "day")


def test_price_line_takes_an_agreement_too() -> None:
    assert price_line(agreement(), "training", Decimal("1.5")) == (3000, "hourly")


def test_rate_card_equality_ignores_override_order() -> None:
    a = RateCard.of(1, by_activity={"training": ActivityRates(1), "meeting": ActivityRates(2)})
    b = RateCard.of(1, by_activity={"meeting": ActivityRates(2), "training": ActivityRates(1)})
    assert a == b
    assert a.for_activity("meeting") == ActivityRates(2)
    assert a.for_activity("travel") is None


def sign(**overrides: Any) -> AgreementSigned:
    terms: dict[str, Any] = {
        "payer_id": "icb",
        "payee_id": "hope",
        "organisations": ORGANISATIONS,
        "nation": "scotland",
        "starts_on": "2026-01-01",
        "ends_on": "2027-03-31",
        "rates": RATES,
        "budget_pence": 1_200_000,
    }
    terms.update(overrides)
    return sign_agreement("a1", PARTNERSHIP, **terms)


def errors_of(**overrides: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        sign(**overrides)
    return caught.value.errors


def test_sign_agreement_with_defaults() -> None:
    signed = sign()
    assert signed.payment_terms_days == 30
    assert signed.approval_sla_working_days == 5
    assert signed.reminder_schedule == (-3, 1, 7, 14, 21)
    assert signed.starts_on == date(2026, 1, 1)
    assert signed.rates == RateCard.of(2500, 8000, 15000, {"training": ActivityRates(2000)})
    assert sign(rates=signed.rates) == signed
    assert sign(reminder_schedule=None).reminder_schedule == (-3, 1, 7, 14, 21)
    assert sign(reminder_schedule=[7, -1]).reminder_schedule == (-1, 7)


def test_payer_must_be_statutory_and_payee_vcse_and_both_members() -> None:
    assert errors_of(payer_id="hope", payee_id="icb") == {
        "payer_id": ["the payer must be a statutory organisation"],
        "payee_id": ["the payee must be a VCSE organisation"],
    }
    assert errors_of(payer_id="nobody") == {"payer_id": ["unknown organisation"]}
    outsiders = {**ORGANISATIONS}
    outsiders["far"] = outsiders["icb"].__class__("far", "Far ICB", "statutory")
    assert errors_of(payer_id="far", organisations=outsiders) == {
        "payer_id": ["the payer is not a member of this partnership"]
    }


def test_payment_terms_cite_the_30_day_rule() -> None:
    errors = errors_of(payment_terms_days=31)
    assert "30 days" in errors["payment_terms_days"][0]
    assert "Public Contracts Regulations" in errors["payment_terms_days"][0]
    assert "payment_terms_days" in errors_of(payment_terms_days=0)
    assert errors_of(payment_terms_days=30.0) == {"payment_terms_days": ["must be a whole number"]}
    assert sign(payment_terms_days=1).payment_terms_days == 1


def test_other_terms_are_checked_together() -> None:
    errors = errors_of(
        nation="cornwall",
        ends_on="2025-12-31",
        approval_sla_working_days=31,
        budget_pence=0,
        rates={"hourly_pence": -5, "day_pence": True, "by_activity": {"juggling": {}}},
        reminder_schedule=[1, 1, 400],
    )
    assert errors == {
        "nation": ["must be one of: england, wales, scotland, northern_ireland"],
        "ends_on": ["must not be before starts_on"],
        "rates.hourly_pence": ["must be positive"],
        "rates.day_pence": ["must be a whole number of pence"],
        "rates.by_activity.juggling": ["unknown field"],
        "budget_pence": ["must be positive"],
        "approval_sla_working_days": ["must be between 0 and 30"],
        "reminder_schedule.1": ["is listed twice"],
        "reminder_schedule.2": ["must be between -30 and 365"],
    }


def test_rate_card_shape_is_checked() -> None:
    assert errors_of(rates={"hourly_pence": 2500, "weekly_pence": 1}) == {
        "rates.weekly_pence": ["unknown field"]
    }
    assert errors_of(rates={"half_day_pence": 100}) == {"rates.hourly_pence": ["is required"]}
    assert errors_of(rates={"hourly_pence": 1, "by_activity": {"training": {}}}) == {
        "rates.by_activity.training": ["give at least one rate"]
    }
    assert errors_of(rates="lots") == {"rates": ["must be an object"]}
    assert errors_of(rates={"hourly_pence": 1.5}) == {
        "rates.hourly_pence": ["must be a whole number of pence"]
    }


def test_budget_is_optional_and_dates_may_be_dates() -> None:
    signed = sign(budget_pence=None, starts_on=date(2026, 2, 1), ends_on=date(2026, 2, 1))
    assert signed.budget_pence is None
    assert signed.ends_on == signed.starts_on
    assert errors_of(starts_on="01/02/2026") == {"starts_on": ["must be a date (YYYY-MM-DD)"]}


def test_amend_changes_only_what_is_given() -> None:
    current = Agreement.replay([sign()])
    amended = current.amend(budget_pence=2_000_000, payment_terms_days=10)
    assert amended.ends_on is None and amended.rates is None
    after = current.apply(amended)
    assert after.budget_pence == 2_000_000
    assert after.payment_terms_days == 10
    assert after.ends_on == current.ends_on
    assert after.rates == current.rates
    assert after.version == 2
    assert Agreement.replay([sign(), amended]) == after


def test_amend_validates() -> None:
    current = Agreement.replay([sign()])
    with pytest.raises(ValidationFailed) as caught:
        current.amend()
    assert caught.value.errors == {"_schema": ["nothing to change"]}
    with pytest.raises(ValidationFailed) as caught:
        current.amend(ends_on="2025-01-01", payment_terms_days=45, rates={"hourly_pence": 0})
    assert set(caught.value.errors) == {"ends_on", "payment_terms_days", "rates.hourly_pence"}
    new_rates = current.amend(rates=RateCard.of(3000), reminder_schedule=[])
    assert new_rates.rates == RateCard.of(3000)
    assert new_rates.reminder_schedule == ()


def test_covers_the_validity_period_inclusive() -> None:
    current = agreement(starts_on="2026-01-01", ends_on="2026-12-31")
    assert current.covers(date(2026, 1, 1))
    assert current.covers(date(2026, 12, 31))
    assert not current.covers(date(2025, 12, 31))
    assert not current.covers(date(2027, 1, 1))
