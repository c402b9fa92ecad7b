"""What `/readyz` checks, with the reason an operator reads when it fails.

A service is ready when its database answers and its schema is at the head of its migrations,
or at a revision newer than this code knows: during a rolling upgrade the new release migrates
first (migrations only add, see docs), and the old processes must keep serving meanwhile. A
database behind head, or never migrated, is not ready: `bridges db upgrade` has not run.

The relay and the notifier's consumer also need Kafka (a broker answers, the events topic
exists) and must keep up: the relay's lag (age of the oldest unpublished event) and the
consumer's lag (records not yet applied) under bounds the operator sets. The ledger's and the
notifier's web processes never talk to Kafka (the ledger writes events to its own database;
the relay publishes them), so Kafka being away does not make them unready.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from shared.migrations import schema_state
from shared.settings import env_float


class NotReady(Exception):
    """Raised by a readiness check; its message is the reason `/readyz` gives."""


def check_database(
    engine: Engine, migrations_dir: Path, version_table: str = "alembic_version"
) -> None:
    """Raise `NotReady` unless the database answers and its schema is at (or past) head."""
    try:
        with engine.connect() as connection:
            state = schema_state(migrations_dir, connection, version_table)
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise NotReady(f"the database does not answer ({type(cause).__name__})") from error
    if state.current is None or (state.known and not state.at_head):
        raise NotReady(f"the database is {state.describe()}: run the migrations")


KAFKA_TIMEOUT_VARIABLE = "BRIDGES_READY_KAFKA_TIMEOUT_SECONDS"


def kafka_timeout(explicit: float | None = None) -> float:
    """How long a readiness probe waits for Kafka: `explicit`, else the variable, else 2 s."""
    if explicit is not None:
        return explicit
    return env_float(KAFKA_TIMEOUT_VARIABLE, 2.0, minimum=0.1)


def check_kafka(config: Mapping[str, Any], topic: str, timeout_seconds: float) -> None:
    """Raise `NotReady` unless a broker answers within `timeout_seconds` and `topic` exists."""
    servers = ",".join(str(s) for s in config.get("bootstrap_servers") or [])
    timeout_ms = int(timeout_seconds * 1000)
    # The connection settings only: a consumer's config also has group settings, which an
    # admin client refuses (KafkaConfigurationError).
    connection = {k: v for k, v in config.items() if k in KafkaAdminClient.DEFAULT_CONFIG}
    try:
        admin = KafkaAdminClient(
            **connection,
            client_id="bridges-readiness",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )
    except (KafkaError, OSError) as error:
        raise NotReady(
            f"Kafka does not answer at {servers} within {timeout_seconds:g}s "
            f"({type(error).__name__})"
        ) from error
    try:
        topics = admin.list_topics()
    except (KafkaError, OSError) as error:
        raise NotReady(
            f"Kafka at {servers} does not list its topics within {timeout_seconds:g}s "
            f"({type(error).__name__})"
        ) from error
    finally:
        admin.close()
    if topic not in topics:
        raise NotReady(f"the topic {topic} does not exist on Kafka: run bridges kafka init")


def all_checks(*checks: Callable[[], None]) -> Callable[[], None]:
    """One readiness check from several: every one runs, and the reasons of all that fail
    are given together, so an operator sees at once everything that is wrong."""

    def check() -> None:
        reasons = []
        for one in checks:
            try:
                one()
            except NotReady as not_ready:
                reasons.append(str(not_ready))
        if reasons:
            raise NotReady("; ".join(reasons))

    return check


class ReadinessCollector(Collector):
    """`bridges_ready{process}` on `/metrics`: 1 while `ready()` passes, 0 while `/readyz`
    would answer 503; evaluated at each scrape, so an alert rule can watch readiness."""

    def __init__(self, process: str, ready: Callable[[], None]) -> None:
        self.process = process
        self.ready = ready

    def collect(self) -> Any:
        gauge = GaugeMetricFamily(
            "bridges_ready",
            "1 while the process is ready (its /readyz answers 200), else 0",
            labels=["process"],
        )
        try:
            self.ready()
            value = 1.0
        except Exception:  # noqa: BLE001 - any failure means not ready, as /readyz says
            value = 0.0
        gauge.add_metric([self.process], value)
        yield gauge
