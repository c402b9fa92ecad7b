"""The notifier's Flask application factory (`bridges notifier serve`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from shared import clock as product_clock
from shared.calendar import london_date
from shared.http import (
    ProblemApi,
    build_ops_blueprint,
    install_displayable_output,
    install_input_guard,
    install_proxy_fix,
    install_request_metrics,
    install_security_headers,
    problem_from_http,
)
from shared.i18n import N_
from shared.i18n_web import install_language
from shared.logging import configure_logging, get_logger
from shared.problems import Problem, problem_response
from shared.readiness import check_database
from shared.settings import var_dir_path
from shared.sql import make_engine
from shared.tokens import token_keys

from ..base_rate_notice import today_notice
from ..data import load_base_rates, warn_of_stale_base_rates_at_start
from ..settings import NotifierSettings
from ..store.migrate import MIGRATIONS_DIR, VERSION_TABLE
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
    install_language(app, pages=False)
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
    keys = token_keys(var_dir or var_dir_path())
    app.extensions["bridges.notifier.engine"] = engine

    warn_of_stale_base_rates_at_start(london_date(clock()), process="notifier api")
    api = ProblemApi(app)
    app.extensions["bridges.api"] = api
    for blueprint in build_routes(
        engine, lambda: authenticate(engine, keys), clock, settings.webhook_allow_loopback
    ):
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    registry = CollectorRegistry()
    app.register_blueprint(
        build_ops_blueprint(
            registry,
            ready=lambda: _check_schema(engine),
            detail=lambda: _base_rate_detail(clock),
            process="notifier-api",
        )
    )
    install_request_metrics(app, registry, "notifier")
    install_security_headers(app)
    install_input_guard(app)
    install_proxy_fix(app, settings.trusted_proxies)
    install_displayable_output(app)

    @app.errorhandler(Exception)
    def _error(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return problem_from_http(error)
        if isinstance(error, Problem):
            return problem_response(error)
        log.exception("unhandled error", path=request.path, method=request.method)
        return problem_response(
            Problem(500, "internal", N_("Internal error"), N_("the error was logged"))
        )

    return app


def _base_rate_detail(clock: Callable[[], datetime]) -> dict[str, object]:
    """`/readyz`'s detail: whether a debt first overdue today gets a confirmed base rate.

    Informational: stale base rate data does not make the notifier unready (statements and
    indicators still answer, and say the interest rests on unconfirmed rates)."""
    try:
        rates = load_base_rates()
    except ValueError as error:
        return {"base_rate_data": "unreadable", "message": str(error)}
    today = london_date(clock())
    notice = today_notice(rates, today)
    [reference] = notice.reference_dates
    if notice.stale:
        message = (
            f"debts first overdue today use the base rate on {reference.isoformat()}, after "
            f"the base rate data's confirmed_to ({notice.confirmed_to.isoformat()}): add any "
            "change of Bank Rate since and move confirmed_to on (services/notifier/data/"
            "base_rates.json, or the file BRIDGES_BASE_RATES_FILE names)"
        )
    else:
        message = (
            f"debts first overdue today use the base rate on {reference.isoformat()}, "
            "within the confirmed data"
        )
    return {
        "base_rate_data": "stale" if notice.stale else "ok",
        "base_rates_confirmed_to": notice.confirmed_to.isoformat(),
        "today": today.isoformat(),
        "reference_date": reference.isoformat(),
        "reference_dates_unconfirmed": [day.isoformat() for day in notice.unconfirmed],
        "message": message,
    }


def _check_schema(engine: Engine) -> None:
    """Ready when the database answers and its schema is at head (see shared/readiness.py)."""
    check_database(engine, MIGRATIONS_DIR, VERSION_TABLE)
