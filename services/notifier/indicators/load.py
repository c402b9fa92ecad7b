"""Indicators from the notifier's read model: a thin loader around `compute_indicators`."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from ..base_rate_notice import STALE_BASE_RATES
from ..data import load_base_rates
from ..interest import BaseRateHistory
from ..store.read_model import load_claims
from . import Indicators, Period, Scope, compute_indicators


def indicators_for(
    connection: Connection,
    scope: Scope,
    period: Period,
    *,
    today: date | None = None,
    rates: BaseRateHistory | None = None,
) -> Indicators:
    """Indicators for the scope and period; positions as at the period's end or ``today``,
    whichever is earlier. Only the scope's claims are read."""
    timelines = load_claims(
        connection,
        partnership_id=scope.partnership_id,
        payer_id=scope.payer_id,
        payee_id=scope.payee_id,
    )
    indicators = compute_indicators(
        timelines, scope, period, rates or load_base_rates(), as_at=today
    )
    if indicators.base_rates is not None:
        STALE_BASE_RATES.warn(indicators.base_rates, needed_by="indicators")
    return indicators
