"""Fault runs talk to a broker of their own, started here once per session (deploy/local/kafka.sh
with its own var dir and ports): they pause and kill it, so it is never the shared one. Topics
are per test, as everywhere (tests/support/kafka.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.kafka import BrokerScriptFailed, OwnBroker, events_topic, kafka_settings

__all__ = ["events_topic", "kafka_settings"]


@pytest.fixture(scope="session")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnBroker]:
    broker = OwnBroker(tmp_path_factory.mktemp("fault-broker"))
    try:
        broker.up()
    except (BrokerScriptFailed, AssertionError) as error:
        pytest.fail(f"the fault runs' own broker did not start: {error}", pytrace=False)
    yield broker
    broker.down()


@pytest.fixture(scope="session")
def kafka_bootstrap(own_broker: OwnBroker) -> str:
    """Every fault run's broker: the session's own."""
    return own_broker.bootstrap
