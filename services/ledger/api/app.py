"""The ledger's Flask application factory. Nothing is built at import time: gunicorn forks
first, then each worker builds its own app, engine and connection pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from shared import clock as product_clock
from shared.events.envelope import StoredEvent
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
from shared.settings import LedgerSettings

from ..application import Ledger
from ..receipts.storage import ReceiptStorage
from ..store import EventStore, make_engine
from ..store.migrate import MIGRATIONS_DIR
from ..web import build_web, web_config
from ..web.keys import resolve_secret_key
from .errors import problem_for
from .routes import register_routes
from .routes.people import build_internal

API_TITLE = "Bridges ledger"
API_VERSION = "1.0.0"


def create_app(
    settings: LedgerSettings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    testing: bool = False,
    receipt_storage: ReceiptStorage | None = None,
) -> Flask:
    settings = settings or LedgerSettings.from_env()
    configure_logging()
    log = get_logger("ledger.api")
    if clock is None:
        product_clock.announce(log)

    app = Flask("bridges.ledger")
    install_language(app, pages=True)
    app.config.update(
        TESTING=testing,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE=API_TITLE,
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "Time claims of VCSE organisations, their approval and payment, "
                    "as an append-only event log. Errors are RFC 9457 problem documents."
                )
            },
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                }
            },
        },
    )

    # The web forms' session cookie and CSRF tokens (the API uses bearer tokens instead).
    app.config.update(
        web_config(
            settings, testing=testing, secret_key=resolve_secret_key(settings, testing=testing)
        )
    )

    registry = CollectorRegistry()
    appended = Counter(
        "bridges_ledger_events_appended_total",
        "Events appended to the store (counted when their transaction commits), by type",
        ["type"],
        registry=registry,
    )

    def count_appended(stored: Sequence[StoredEvent]) -> None:
        for event in stored:
            appended.labels(event.type).inc()

    engine = make_engine(settings.database_url)
    store = EventStore(engine)
    ledger = Ledger(
        store,
        settings=settings,
        clock=clock,
        correlation_id=_request_id,
        appended=count_appended,
        receipt_storage=receipt_storage,
    )
    app.extensions["bridges.ledger"] = ledger

    api = ProblemApi(app)
    app.extensions["bridges.api"] = api
    register_routes(api, ledger)
    # Not in the public API nor its OpenAPI document: the data keys the notifier opens with.
    app.register_blueprint(build_internal(ledger))
    app.register_blueprint(
        build_ops_blueprint(registry, ready=lambda: _check_schema(engine), process="ledger")
    )
    app.register_blueprint(build_web(ledger, settings))
    install_request_metrics(app, registry, "ledger")
    install_security_headers(app)
    install_input_guard(app)
    install_proxy_fix(app, settings.trusted_proxies)
    install_displayable_output(app)

    @app.errorhandler(Exception)
    def _error(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return problem_from_http(error)
        problem = problem_for(error)
        if problem is not None:
            return problem_response(problem)
        log.exception("unhandled error", path=request.path, method=request.method)
        return problem_response(
            Problem(
                500,
                "internal",
                N_("Internal error"),
                N_("the error was logged with the request id"),
            )
        )

    @app.teardown_appcontext
    def _noop(_exc: BaseException | None) -> None:
        return None

    return app


def _check_schema(engine: Engine) -> None:
    """Ready when the database answers and its schema is at head (see shared/readiness.py)."""
    check_database(engine, MIGRATIONS_DIR)


def _request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None
