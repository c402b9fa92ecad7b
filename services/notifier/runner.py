"""`bridges notifier run`: the consumer, plus the scheduler's tick on a timer, in one process.

The consumer applies events and raises the alerts they cause in the same transaction; the
tick evaluates the time-based rules as at today, sends due deliveries and daily digests, and
produces the monthly statements on the first working day of a month.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from kafka.errors import KafkaError
from prometheus_client import CollectorRegistry
from sqlalchemy import Connection, Engine

from shared import clock as product_clock
from shared.calendar import london_date
from shared.collector import settle_collector
from shared.logging import get_logger
from shared.ops_server import serve_ops
from shared.readiness import NotReady

from . import telemetry
from .consumer import EventConsumer
from .data import warn_of_stale_base_rates_at_start
from .readiness import consumer_readiness

log = get_logger("notifier.runner")
Clock = Callable[[], datetime]


def raise_alerts_for(
    connection: Connection, claim_ids: list[str], as_of: date, now: datetime
) -> None:
    """The consumer's after-batch hook: the alerts the batch's changes cause, same transaction."""
    from .alerts import evaluate

    evaluate(connection, as_of, now, claim_ids=claim_ids)


class Ticker(threading.Thread):
    """Runs the scheduler's tick every `seconds`, until stopped."""

    def __init__(self, tick: Callable[[], Any], seconds: float) -> None:
        super().__init__(name="notifier-tick", daemon=True)
        self._tick = tick
        self._seconds = seconds
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.is_set():
            try:
                self._tick()
            except Exception:
                log.exception("tick failed; the next one will retry")
            self._stop_requested.wait(self._seconds)

    def stop(self) -> None:
        self._stop_requested.set()


def run_notifier(
    engine: Engine,
    *,
    settings: Any,
    kafka_config: dict[str, Any],
    topic: str,
    dlq_topic: str,
    group: str,
    metrics_port: int,
    max_records: int = 500,
    clock: Clock = product_clock.now,
) -> None:
    from .scheduler import tick

    registry = CollectorRegistry()
    telemetry.install(registry)
    ticker = Ticker(lambda: tick(engine, clock(), settings), settings.tick_seconds)
    stopping = threading.Event()
    consumer: EventConsumer | None = None
    checks: dict[int, Callable[[], None]] = {}  # the started consumer's readiness, by its id

    def ready() -> None:
        if consumer is None:
            raise NotReady("the consumer has not started: no broker has answered yet")
        if id(consumer) not in checks:
            checks[id(consumer)] = consumer_readiness(engine, consumer, kafka_config=kafka_config)
        checks[id(consumer)]()

    if metrics_port:
        serve_ops(
            # 0.0.0.0 in a container, so the orchestrator's probes and Prometheus reach it.
            os.environ.get("BRIDGES_NOTIFIER_METRICS_HOST") or "127.0.0.1",
            metrics_port,
            registry,
            ready,
            process="notifier-consumer",
        )

    def stop(_signum: int, _frame: Any) -> None:
        log.info("stopping")
        stopping.set()
        if consumer is not None:
            consumer.stop()
        ticker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The tick (due deliveries, digests, time-based rules) needs no broker: it runs at once.
    ticker.start()
    warn_of_stale_base_rates_at_start(london_date(clock()), process="notifier")
    delay = 1.0
    while consumer is None:
        try:
            consumer = EventConsumer(
                engine,
                topic=topic,
                dlq_topic=dlq_topic,
                kafka_config=kafka_config,
                group=group,
                after_batch=raise_alerts_for,
                clock=clock,
                registry=registry,
                max_records=max_records,
                keys=settings.key_ring(),
            )
        except KafkaError as error:
            # A broker away at start (a restart during an outage) is waited for, not fatal.
            log.warning("broker unavailable at start", error=str(error), retry_in=delay)
            if stopping.wait(delay):
                ticker.stop()
                return
            delay = min(delay * 2, 30.0)
    if stopping.is_set():
        consumer.close()
        return
    log.info("notifier running", topic=topic, group=group)
    settle_collector()
    try:
        consumer.run()
    finally:
        ticker.stop()
        consumer.close()
