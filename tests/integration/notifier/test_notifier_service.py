"""The notifier API as a service: its committed OpenAPI contract, health, readiness, metrics,
security headers, and answers to requests without a valid token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from services.notifier.api.app import create_app
from services.notifier.api.openapi import openapi_document
from services.notifier.base_rate_notice import STALE_BASE_RATES
from services.notifier.data import BASE_RATES_ENV
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
    assert client.get("/readyz").get_json()["status"] == "ready"
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


def test_readiness_says_whether_todays_reference_rate_is_confirmed(
    notifier_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BASE_RATES_ENV, raising=False)  # the packaged data: to 19 March 2026
    STALE_BASE_RATES.forget()  # as a fresh process
    try:
        with capture_logs() as logs:
            # 1 May 2026: a debt first overdue today takes the 31 December 2025 rate.
            spring = create_app(
                NotifierSettings(database_url=notifier_url),
                clock=lambda: datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
                testing=True,
                var_dir=tmp_path,
            )
            spring_ready = spring.test_client().get("/readyz")
            # 1 July 2026 (still 30 June in UTC): the 30 June 2026 rate, not confirmed.
            summer = create_app(
                NotifierSettings(database_url=notifier_url),
                clock=lambda: datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
                testing=True,
                var_dir=tmp_path,
            )
            summer_ready = summer.test_client().get("/readyz")
    finally:
        STALE_BASE_RATES.forget()

    assert spring_ready.status_code == 200
    assert spring_ready.get_json() == {
        "status": "ready",
        "detail": {
            "base_rate_data": "ok",
            "base_rates_confirmed_to": "2026-03-19",
            "today": "2026-05-01",
            "reference_date": "2025-12-31",
            "reference_dates_unconfirmed": [],
            "message": "debts first overdue today use the base rate on 2025-12-31, "
            "within the confirmed data",
        },
    }
    # Stale data is for information: the notifier stays ready, and says why it is stale.
    assert summer_ready.status_code == 200
    summer_body = summer_ready.get_json()
    assert summer_body["status"] == "ready"
    detail = summer_body["detail"]
    assert detail["base_rate_data"] == "stale"
    assert (detail["today"], detail["reference_date"]) == ("2026-07-01", "2026-06-30")
    assert detail["reference_dates_unconfirmed"] == ["2026-06-30"]
    assert "2026-03-19" in detail["message"] and "confirmed_to" in detail["message"]
    # And the log said so when the summer process started, and only then.
    stale = [entry for entry in logs if entry["event"] == "base rate data stale"]
    assert [(entry["reference_date"], entry["needed_by"]) for entry in stale] == [
        ("2026-06-30", "notifier api start")
    ]
