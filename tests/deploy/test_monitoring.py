"""deploy/prometheus/alerts.yaml and deploy/grafana/bridges.json: the rules file passes
Prometheus's own rule parser (deploy/local/promrules.sh, built from the Go module proxy: the
structure, every PromQL expression and every template), and every metric either of them uses
is one the four processes really serve, read from their real `/metrics` endpoints."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from services.ledger.api.app import create_app as create_ledger
from services.ledger.relay import RelayMetrics
from services.notifier import telemetry
from services.notifier.api.app import create_app as create_notifier
from services.notifier.consumer import EventConsumer
from services.notifier.settings import NotifierSettings
from shared.ops_server import serve_ops
from shared.settings import LedgerSettings
from shared.sql import make_engine
from tests.deploy._support import DEPLOY
from tests.support.kafka import kafka_bootstrap

__all__ = ["kafka_bootstrap"]

RULES = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "bridges.json"
PROMRULES = DEPLOY / "local" / "promrules.sh"
METRIC_NAME = re.compile(r"\bbridges_[a-z_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def promrules(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(PROMRULES), str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_alert_rules_pass_prometheus_own_parser() -> None:
    checked = promrules(RULES)
    assert checked.returncode == 0, checked.stderr
    assert "SUCCESS: 12 rules found" in checked.stdout


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("max(bridges_relay_lag_seconds) > 60", "max(bridges_relay_lag_seconds > 60"), "parse"),
        (("for: 5m", "for: five minutes"), "five minutes"),
        (("{{ $labels.partition }}", "{{ $labels.partition "), "template"),
    ],
)
def test_a_broken_rules_file_is_refused(
    change: tuple[str, str], complaint: str, tmp_path: Path
) -> None:
    broken = tmp_path / "alerts.yaml"
    broken.write_text(RULES.read_text().replace(*change, 1))
    checked = promrules(broken)
    assert checked.returncode == 1 and complaint in checked.stderr, checked.stderr


def names_used() -> dict[str, set[str]]:
    rules = yaml.safe_load(RULES.read_text())
    used: dict[str, set[str]] = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            used[f"rule {rule['alert']}"] = set(METRIC_NAME.findall(rule["expr"]))
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        exprs = " ".join(target["expr"] for target in panel["targets"])
        used[f"panel {panel['title']!r}"] = set(METRIC_NAME.findall(exprs))
    return used


def served(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


@pytest.fixture
def scraped(tmp_path: Path, kafka_bootstrap: str) -> Iterator[set[str]]:
    """Every metric name the ledger, the notifier's API, the relay and the consumer serve."""
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    notifier_url = f"sqlite:///{tmp_path / 'notifier.db'}"
    ledger = create_ledger(
        LedgerSettings(database_url=ledger_url, var_dir=str(tmp_path)), testing=True
    ).test_client()
    notifier = create_notifier(
        NotifierSettings(database_url=notifier_url), testing=True, var_dir=tmp_path
    ).test_client()
    names = served(ledger.get("/metrics").get_data(as_text=True))
    names |= served(notifier.get("/metrics").get_data(as_text=True))
    # The relay's and the consumer's registries, served as `bridges ledger relay` and
    # `bridges notifier run` serve them.
    relay = RelayMetrics()
    consumer_registry = CollectorRegistry()
    telemetry.install(consumer_registry)
    engine = make_engine(notifier_url)
    consumer = EventConsumer(
        engine,
        topic="bridges.test.unused",
        dlq_topic="bridges.test.unused.dlq",
        kafka_config={"bootstrap_servers": [kafka_bootstrap]},
        registry=consumer_registry,
    )
    servers = [
        serve_ops("127.0.0.1", 0, relay.registry, lambda: None, process="relay"),
        serve_ops("127.0.0.1", 0, consumer_registry, lambda: None, process="notifier-consumer"),
    ]
    try:
        for server in servers:
            answer = requests.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10)
            names |= served(answer.text)
        yield names
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        consumer.close()
        engine.dispose()


def test_every_metric_the_rules_and_the_dashboard_use_is_served(scraped: set[str]) -> None:
    assert {
        "bridges_ready",
        "bridges_relay_lag_seconds",
        "bridges_notifier_consumer_lag",
    } <= scraped
    used = names_used()
    assert all(used.values()), [where for where, names in used.items() if not names]
    unknown = {where: names - scraped for where, names in used.items() if names - scraped}
    assert not unknown, unknown


def test_the_watch_list_is_covered() -> None:
    """Relay lag, consumer lag, dead letters, 5xx, delivery failures, readiness."""
    everything = set().union(*names_used().values())
    for needed in (
        "bridges_relay_lag_seconds",
        "bridges_notifier_consumer_lag",
        "bridges_notifier_events_dead_lettered_total",
        "bridges_ledger_http_requests_total",
        "bridges_notifier_delivery_attempts_total",
        "bridges_ready",
    ):
        assert needed in everything, needed
