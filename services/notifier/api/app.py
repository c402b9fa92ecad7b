"""The notifier's Flask application factory (`bridges notifier serve`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, text
from werkzeug.exceptions import HTTPException

from shared import clock as product_clock
from shared.http import (
    ProblemApi,
    build_ops_blueprint,
    install_request_metrics,
    install_security_headers,
    problem_from_http,
)
from shared.logging import configure_logging, get_logger
from shared.problems import Problem, problem_response
from shared.settings import var_dir_path
from shared.sql import make_engine
from shared.tokens import token_key

from ..settings import NotifierSettings
from .auth import authenticate
from .routes import PREFIX, build_routes


def create_app(
    settings: NotifierSettings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    testing: bool = False,
    var_dir: Path | None = None,
) -> Flask:
    settings = settings or NotifierSettings.from_env()
    configure_logging()
    log = get_logger("notifier.api")
    if clock is None:
        product_clock.announce(log)
        clock = product_clock.now
    app = Flask("bridges.notifier")
    app.config.update(
        TESTING=testing,
        MAX_CONTENT_LENGTH=100_000,
        API_TITLE="Bridges notifier",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "Alerts about unpaid and overdue claims, balance statements and equity "
                    "indicators, from the notifier's read model of the ledger's events. "
                    "Use the API token the ledger issued."
                )
            },
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    engine = make_engine(settings.database_url)
    key = token_key(var_dir or var_dir_path())
    app.extensions["bridges.notifier.engine"] = engine

    api = ProblemApi(app)
    app.extensions["bridges.api"] = api
    for blueprint in build_routes(
        engine, lambda: authenticate(engine, key), clock, settings.webhook_allow_loopback
    ):
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    registry = CollectorRegistry()
    app.register_blueprint(build_ops_blueprint(registry, ready=lambda: _check_schema(engine)))
    install_request_metrics(app, registry, "notifier")
    install_security_headers(app)

    @app.errorhandler(Exception)
    def _error(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return problem_from_http(error)
        if isinstance(error, Problem):
            return problem_response(error)
        log.exception("unhandled error", path=request.path, method=request.method)
        return problem_response(Problem(500, "internal", "Internal error", "the error was logged"))

    return app


def _check_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1 FROM nf_alerts WHERE 1 = 0"))
