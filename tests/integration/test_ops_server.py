"""The relay's and the consumer's small HTTP endpoint: /healthz, /readyz with the reason, and
/metrics; readiness follows the database (here: never migrated, then at head)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from prometheus_client import CollectorRegistry, Counter

from services.ledger.store.migrate import MIGRATIONS_DIR
from services.ledger.store.migrate import upgrade as upgrade_ledger
from shared.migrations import head_revision
from shared.ops_server import serve_ops
from shared.readiness import check_database
from shared.sql import make_engine


@pytest.fixture
def endpoint(empty_database_url: str) -> Iterator[str]:
    registry = CollectorRegistry()
    Counter("bridges_test_things", "things", registry=registry).inc(3)
    engine = make_engine(empty_database_url)
    with engine.connect():
        pass  # SQLite: the empty file exists
    server = serve_ops("127.0.0.1", 0, registry, lambda: check_database(engine, MIGRATIONS_DIR))
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        engine.dispose()


def test_health_readiness_with_a_reason_and_metrics(endpoint: str, empty_database_url: str) -> None:
    assert requests.get(f"{endpoint}/healthz", timeout=5).json() == {"status": "ok"}
    metrics = requests.get(f"{endpoint}/metrics", timeout=5).text
    assert "bridges_test_things_total 3.0" in metrics

    not_ready = requests.get(f"{endpoint}/readyz", timeout=5)
    assert not_ready.status_code == 503
    assert not_ready.headers["Content-Type"] == "application/problem+json"
    assert not_ready.json()["detail"] == (
        "not ready: the database is not migrated (no revision; head is "
        f"{head_revision(MIGRATIONS_DIR)}): run the migrations"
    )

    upgrade_ledger(empty_database_url)
    ready = requests.get(f"{endpoint}/readyz", timeout=5)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert requests.get(f"{endpoint}/nothing", timeout=5).status_code == 404
