"""The notifier API as a service: its committed OpenAPI contract, health, readiness, metrics,
security headers, and answers to requests without a valid token."""

from __future__ import annotations

import json
from pathlib import Path

from services.notifier.api.app import create_app
from services.notifier.api.openapi import openapi_document
from services.notifier.settings import NotifierSettings

OPENAPI_FILE = Path(__file__).resolve().parents[3] / "services" / "notifier" / "openapi.json"


def test_committed_openapi_matches_the_code() -> None:
    assert json.loads(OPENAPI_FILE.read_text()) == openapi_document(), (
        "services/notifier/openapi.json is out of date: run `make openapi` and review the diff"
    )


def test_operations_endpoints_and_refusals(notifier_url: str, tmp_path: Path) -> None:
    app = create_app(NotifierSettings(database_url=notifier_url), testing=True, var_dir=tmp_path)
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}
    assert "bridges_notifier_http_requests_total" in client.get("/metrics").get_data(as_text=True)
    unauthenticated = client.get("/api/v1/alerts")
    assert unauthenticated.status_code == 401
    assert unauthenticated.mimetype == "application/problem+json"
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
    forged = client.get("/api/v1/alerts", headers={"Authorization": "Bearer brg_x.y.z"})
    assert forged.status_code == 401
    assert "frame-ancestors 'none'" in forged.headers["Content-Security-Policy"]
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "/api/v1/statements/{partnership_id}/{payee_id}/{payer_id}" in paths
