"""The consumer's `/readyz` (`bridges notifier run`): its database (answers, at head), Kafka (a
broker answers and the events topic exists) and its lag: not ready while the records not yet
applied on the partitions it holds, added up, exceed `BRIDGES_NOTIFIER_READY_MAX_LAG`.

The lag is the one the consumer loop last measured (every 5 s, also served as
`bridges_notifier_consumer_lag`): the probe runs in another thread and must not touch the
loop's Kafka client."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine

from shared.readiness import NotReady, all_checks, check_database, check_kafka, kafka_timeout
from shared.settings import env_int

from .consumer import EventConsumer
from .store.migrate import MIGRATIONS_DIR, VERSION_TABLE

MAX_LAG_VARIABLE = "BRIDGES_NOTIFIER_READY_MAX_LAG"


def consumer_readiness(
    engine: Engine,
    consumer: EventConsumer,
    *,
    kafka_config: Mapping[str, Any],
    max_lag: int | None = None,
    kafka_timeout_seconds: float | None = None,
) -> Callable[[], None]:
    bound = env_int(MAX_LAG_VARIABLE, 10_000, minimum=0) if max_lag is None else max_lag
    timeout = kafka_timeout(kafka_timeout_seconds)

    def lag() -> None:
        by_partition = dict(consumer.partition_lag)
        total = sum(by_partition.values())
        if bound > 0 and total > bound:
            worst = ", ".join(
                f"partition {partition}: {records}"
                for partition, records in sorted(by_partition.items())
                if records
            )
            raise NotReady(
                f"the consumer lags: {total} records not yet applied ({worst}), over the bound "
                f"of {bound} ({MAX_LAG_VARIABLE})"
            )

    return all_checks(
        lambda: check_database(engine, MIGRATIONS_DIR, VERSION_TABLE),
        lambda: check_kafka(kafka_config, consumer.topic, timeout),
        lag,
    )
