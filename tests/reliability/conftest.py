"""A fault run that stops the broker asks for `own_broker`: a broker of the session's own,
started here once (deploy/local/kafka.sh with its own var dir and ports), which it may pause and
kill; it is never the shared one. Every other run uses the environment's broker. Topics are per
test, as everywhere (tests/support/kafka.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.kafka import (
    BrokerScriptFailed,
    OwnBroker,
    environment_broker,
    events_topic,
    kafka_settings,
)

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


@pytest.fixture
def kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    """The run's own broker if it asks for one (it faults it), else the environment's."""
    if "own_broker" in request.fixturenames:
        return str(request.getfixturevalue("own_broker").bootstrap)
    return environment_broker()
