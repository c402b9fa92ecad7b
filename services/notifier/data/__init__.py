"""Packaged data of the notifier, and the loader of the Bank of England base rate history.

`base_rates.json` is configuration with effective dates, not a constant: operators must add
each change of Bank Rate and move ``confirmed_to`` on after each decision of the Monetary
Policy Committee (see README.md here), or point ``BRIDGES_BASE_RATES_FILE`` at a JSON file of
the same shape, which then replaces the packaged one. An override may still be the older
shape, a bare list of changes: it is then confirmed only to its last change's date.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from services.notifier.base_rate_notice import STALE_BASE_RATES
from services.notifier.interest import BaseRate, BaseRateHistory
from shared.logging import get_logger

BASE_RATES_ENV = "BRIDGES_BASE_RATES_FILE"


def load_base_rates(environ: Mapping[str, str] | None = None) -> BaseRateHistory:
    """The base rate history: the file named by ``BRIDGES_BASE_RATES_FILE``, else the packaged
    one. Read once per file per process."""
    env = os.environ if environ is None else environ
    override = env.get(BASE_RATES_ENV, "").strip()
    if override:
        return _load_file(str(Path(override).expanduser().resolve()))
    return _load_packaged()


def warn_of_stale_base_rates_at_start(
    today: date, *, process: str, environ: Mapping[str, str] | None = None
) -> list[date]:
    """When a process starts: warn in the log if a debt first overdue ``today`` already needs
    a base rate after the data's ``confirmed_to`` (or if the data cannot be read); returns the
    dates warned of."""
    try:
        rates = load_base_rates(environ)
    except ValueError as error:
        get_logger("notifier.base_rates").error("base rate data unreadable", error=str(error))
        return []
    return STALE_BASE_RATES.warn_at_start(rates, today, process=process)


@functools.cache
def _load_packaged() -> BaseRateHistory:
    text = resources.files(__package__).joinpath("base_rates.json").read_text(encoding="utf-8")
    return parse_base_rates(json.loads(text), source="packaged base_rates.json")


@functools.cache
def _load_file(path: str) -> BaseRateHistory:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{BASE_RATES_ENV}={path}: cannot read the file ({error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{BASE_RATES_ENV}={path}: not JSON ({error})") from None
    return parse_base_rates(data, source=path)


_OBJECT_KEYS = {"confirmed_to", "changes"}
_OPTIONAL_KEYS = {"source"}


def parse_base_rates(data: object, *, source: str = "base rates") -> BaseRateHistory:
    """Check and read ``{"confirmed_to": "YYYY-MM-DD", "source": "…", "changes": [...]}``,
    each change ``{"effective_from": "YYYY-MM-DD", "rate_percent": "5.25"}``; or, the older
    shape, the bare list of changes, confirmed to its last change's date."""
    confirmed_to: date | None = None
    if isinstance(data, dict):
        keys = set(data)
        if not _OBJECT_KEYS <= keys <= _OBJECT_KEYS | _OPTIONAL_KEYS:
            raise ValueError(
                f"{source}: expected confirmed_to and changes (and optionally source), "
                f"got {', '.join(sorted(keys)) or 'nothing'}"
            )
        try:
            confirmed_to = date.fromisoformat(str(data["confirmed_to"]))
        except ValueError:
            raise ValueError(f"{source}.confirmed_to: expected a date YYYY-MM-DD") from None
        if "source" in data and not isinstance(data["source"], str):
            raise ValueError(f"{source}.source: expected text")
        data = data["changes"]
        source = f"{source}.changes"
    if not isinstance(data, list) or not data:
        raise ValueError(f"{source}: expected a non-empty list of base rate changes")
    rates: list[BaseRate] = []
    for index, entry in enumerate(data):
        where = f"{source}[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"effective_from", "rate_percent"}:
            raise ValueError(f"{where}: expected exactly effective_from and rate_percent")
        try:
            effective_from = date.fromisoformat(str(entry["effective_from"]))
        except ValueError:
            raise ValueError(f"{where}.effective_from: expected a date YYYY-MM-DD") from None
        raw_rate = entry["rate_percent"]
        if isinstance(raw_rate, (float, bool)):
            raise ValueError(f'{where}.rate_percent: write the rate as a string, e.g. "5.25"')
        try:
            rate = Decimal(str(raw_rate))
        except InvalidOperation:
            raise ValueError(f'{where}.rate_percent: expected a decimal such as "5.25"') from None
        if not rate.is_finite() or rate < 0 or rate > 100:
            raise ValueError(f"{where}.rate_percent: expected a percentage from 0 to 100")
        rates.append(BaseRate(effective_from, rate))
    days = [rate.effective_from for rate in rates]
    if days != sorted(days) or len(set(days)) != len(days):
        raise ValueError(f"{source}: effective_from dates must be unique and in order")
    if confirmed_to is None:
        return BaseRateHistory(tuple(rates))
    if confirmed_to < days[-1]:
        raise ValueError(
            f"{source}: confirmed_to {confirmed_to.isoformat()} is before the last change "
            f"({days[-1].isoformat()})"
        )
    return BaseRateHistory(tuple(rates), confirmed_to)
