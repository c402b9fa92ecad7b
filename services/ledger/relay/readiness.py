"""The relay's `/readyz`: its database (answers, at head), Kafka (a broker answers and the
topic exists) and its lag: not ready while the oldest event not yet published is older than
`BRIDGES_RELAY_READY_MAX_LAG_SECONDS`.

The lag is measured from the database on each probe (the last stored position against the
position recorded as published), not from the relay's own gauges, so it is right on the
standby too and keeps growing while the relay cannot even reach the broker."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from services.ledger.store.event_store import EventStore, get_relay_position
from services.ledger.store.migrate import MIGRATIONS_DIR
from shared import clock as product_clock
from shared.readiness import NotReady, all_checks, check_database, check_kafka, kafka_timeout
from shared.settings import env_float

from .relay import measure_lag

MAX_LAG_VARIABLE = "BRIDGES_RELAY_READY_MAX_LAG_SECONDS"


def relay_readiness(
    store: EventStore,
    *,
    progress_name: str,
    kafka_config: Mapping[str, Any],
    topic: str,
    max_lag_seconds: float | None = None,
    kafka_timeout_seconds: float | None = None,
    clock: Callable[[], datetime] = product_clock.now,
) -> Callable[[], None]:
    bound = (
        env_float(MAX_LAG_VARIABLE, 300.0, minimum=0)
        if max_lag_seconds is None
        else max_lag_seconds
    )
    timeout = kafka_timeout(kafka_timeout_seconds)

    def database() -> None:
        check_database(store.engine, MIGRATIONS_DIR)

    def lag() -> None:
        try:
            published = get_relay_position(store.engine, progress_name)
            next_events = store.read_feed(published, 1)
            unpublished = store.count_after(published) if next_events else 0
        except SQLAlchemyError:
            return  # the database check says why
        oldest = next_events[0].occurred_at if next_events else None
        measured = measure_lag(unpublished, oldest, clock())
        if bound > 0 and measured.seconds > bound:
            raise NotReady(
                f"the relay lags: the oldest of {measured.events} unpublished events is "
                f"{measured.seconds:.0f} s old, over the bound of {bound:g} s ({MAX_LAG_VARIABLE})"
            )

    return all_checks(database, lambda: check_kafka(kafka_config, topic, timeout), lag)
