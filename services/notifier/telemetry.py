"""What the notifier's consumer process counts and which request a change came from.

Counters: alerts raised (by kind) and delivery attempts (by channel and outcome), on the
registry `bridges notifier run` serves (`install`); in any other process (the API, a command)
they count nothing.

Correlation: the ledger stamps each event with the id of the HTTP request that caused it
(`correlation_id`, the request's `X-Request-ID`). While the consumer raises the alerts of a
batch, `batch_correlations` maps each changed claim to the correlation id of the event that
last changed it, so the alert, its log lines and its deliveries carry that id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter

_correlations: ContextVar[Mapping[str, str] | None] = ContextVar(
    "bridges_batch_correlations", default=None
)


@contextmanager
def batch_correlations(by_claim: Mapping[str, str]) -> Iterator[None]:
    token = _correlations.set(by_claim)
    try:
        yield
    finally:
        _correlations.reset(token)


def correlation_of(claim_id: str | None) -> str | None:
    """The correlation id of the event that changed this claim in the batch being applied."""
    by_claim = _correlations.get()
    if by_claim is None or claim_id is None:
        return None
    return by_claim.get(claim_id)


class NotifierCounters:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.alerts_raised = Counter(
            "bridges_notifier_alerts_raised_total",
            "Alerts raised, by kind (counted in the transaction that raises them)",
            ["kind"],
            registry=registry,
        )
        self.delivery_attempts = Counter(
            "bridges_notifier_delivery_attempts_total",
            "Delivery attempts by channel and outcome: sent, retried (will be tried again) or "
            "failed (given up)",
            ["channel", "outcome"],
            registry=registry,
        )


_installed: NotifierCounters | None = None


def install(registry: CollectorRegistry) -> NotifierCounters:
    global _installed
    _installed = NotifierCounters(registry)
    return _installed


def alert_raised(kind: str) -> None:
    if _installed is not None:
        _installed.alerts_raised.labels(kind).inc()


def delivery_attempted(channel: str, outcome: str) -> None:
    if _installed is not None:
        _installed.delivery_attempts.labels(channel, outcome).inc()
