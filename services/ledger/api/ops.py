"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text

from shared.problems import Problem


def build_ops_blueprint(registry: CollectorRegistry) -> Blueprint:
    blueprint = Blueprint("ops", __name__)

    @blueprint.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok"}

    @blueprint.get("/readyz")
    def readyz() -> dict[str, str]:
        """The database answers and holds the schema."""
        engine = current_app.extensions["bridges.ledger"].store.engine
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1 FROM events WHERE 1 = 0"))
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            raise Problem(
                503, "not-ready", "Not ready", f"database unavailable: {type(exc).__name__}"
            ) from exc
        return {"status": "ready"}

    @blueprint.get("/metrics")
    def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return blueprint


def install_request_metrics(app: Flask, registry: CollectorRegistry) -> None:
    requests_total = Counter(
        "bridges_ledger_http_requests_total",
        "HTTP requests answered by the ledger",
        ["method", "endpoint", "status"],
        registry=registry,
    )
    latency = Histogram(
        "bridges_ledger_http_request_seconds",
        "Time to answer an HTTP request",
        ["method", "endpoint"],
        registry=registry,
    )

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        started = g.get("request_started")
        if started is not None:
            latency.labels(request.method, endpoint).observe(time.perf_counter() - started)
        requests_total.labels(request.method, endpoint, str(response.status_code)).inc()
        return response
