"""HTTP pieces both services' Flask apps use: flask-smorest answering RFC 9457 problems,
operations endpoints (liveness, readiness, Prometheus metrics), request metrics and security
headers."""

from __future__ import annotations

import http
import json
import os
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import flask_smorest
import structlog
from flask import Blueprint, Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest.utils import prepare_response
from markupsafe import Markup
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.i18n import N_, gettext
from shared.problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemSchema,
    flatten_messages,
    problem_response,
    validation_problem,
)
from shared.readiness import NotReady, ReadinessCollector
from shared.text import displayable, displayable_all, text_fault

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


class ProblemApi(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest, answering RFC 9457 problems instead of its default error body, and
    documenting them as `application/problem+json` (what they are sent as)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, problem_from_http)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not 100 <= status < 200 and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


# ---- what a JSON body may be ------------------------------------------------------------

MAX_JSON_DEPTH = 32
"""Arrays and objects nest at most this deep in a request body (the deepest real body, an
agreement's rate card, nests 4). Deeper bodies are refused before any parser recurses."""

# A JSON string (with its escapes), so brackets inside strings are not counted.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_body_problem(body: bytes) -> str | None:
    """Why ``body`` cannot be a request's JSON (not UTF-8, or nested too deep), else None.

    Runs in linear time without recursion; the JSON parser itself reports other syntax
    errors."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"the body is not valid UTF-8 (byte {error.start}): send JSON encoded as UTF-8"
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return (
                    f"the JSON body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep"
                )
        else:
            depth -= 1
    return None


def install_input_guard(app: Flask) -> None:
    """Before any route, webargs or the idempotency fingerprint reads the request:

    - a path parameter that is not text the product accepts (shared/text.py, e.g. a NUL,
      which PostgreSQL cannot even compare) names nothing: 404;
    - a JSON body that is not UTF-8 or nests deeper than MAX_JSON_DEPTH: 400 (Python's parser
      recurses per level, and 10,000 `[` would otherwise end in a RecursionError, a 500)."""

    @app.before_request
    def _guard_input() -> None:
        for value in (request.view_args or {}).values():
            if isinstance(value, str) and text_fault(value) is not None:
                raise Problem(404, "not-found", N_("Not found"), N_("no such resource"))
        if not request.is_json:
            return
        problem = json_body_problem(request.get_data(cache=True))
        if problem is not None:
            raise Problem(400, "bad-request", N_("The request could not be read"), problem)


_HTTP_DETAIL = {
    400: ("bad-request", N_("The request could not be read")),
    404: ("not-found", N_("Not found")),
    405: ("method-not-allowed", N_("Method not allowed")),
    413: ("too-large", N_("Request body too large")),
    415: ("unsupported-media-type", N_("Unsupported media type")),
}


def problem_from_http(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if status == 422 and messages:
        # webargs nests messages by location ({"json": {...}}, {"query": {...}}).
        if isinstance(messages, dict) and set(messages) <= {"json", "query", "headers", "form"}:
            merged: dict[str, list[str]] = {}
            for location_messages in messages.values():
                merged.update(flatten_messages(location_messages))
            errors = merged
        else:
            errors = flatten_messages(messages)
        return problem_response(validation_problem(errors))
    slug, title = _HTTP_DETAIL.get(status, ("http-" + str(status), error.name))
    detail = data.get("message") or error.description or error.name
    if status == 400 and request.is_json:
        json_error = _json_error()
        if json_error:
            detail = gettext("the body is not valid JSON: %(error)s", error=json_error)
    if status == 413:
        detail = N_("the request body is larger than this service accepts")
    headers = dict(data.get("headers") or {})
    return problem_response(Problem(status, slug, title, str(detail), headers=headers))


def _json_error() -> str | None:
    try:
        json.loads(request.get_data(cache=True) or b"null")
    except ValueError as error:
        return str(error)
    return None


def build_ops_blueprint(
    registry: CollectorRegistry,
    ready: Callable[[], None],
    detail: Callable[[], dict[str, object]] | None = None,
    *,
    process: str,
) -> Blueprint:
    """`/healthz` (the process answers), `/readyz` (`ready()` raises if not; `detail()`, if
    given, adds what an operator should know without making the process unready) and
    `/metrics` (with `bridges_ready{process}`)."""
    blueprint = Blueprint("ops", __name__)
    readiness = CollectorRegistry()
    readiness.register(ReadinessCollector(process, ready))

    @blueprint.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @blueprint.get("/readyz")
    def readyz() -> dict[str, object]:
        try:
            ready()
        except NotReady as exc:
            raise Problem(503, "not-ready", N_("Not ready"), f"not ready: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            raise Problem(
                503, "not-ready", N_("Not ready"), f"not ready: {type(exc).__name__}"
            ) from exc
        if detail is None:
            return {"status": "ready"}
        return {"status": "ready", "detail": detail()}

    @blueprint.get("/metrics")
    def metrics() -> Response:
        body = render_metrics(registry) + generate_latest(readiness)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)

    return blueprint


def render_metrics(registry: CollectorRegistry) -> bytes:
    """The Prometheus text of this process's metrics; under gunicorn (multiprocess mode,
    `PROMETHEUS_MULTIPROC_DIR` set by deploy/gunicorn.conf.py) every worker's, added up, so a
    scrape that lands on one worker still counts the requests all of them answered."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(registry)
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(collected)


def install_proxy_fix(app: Flask, trusted_proxies: int) -> None:
    """Behind `trusted_proxies` reverse proxies (nginx, a load balancer), each appending the
    address it saw to `X-Forwarded-For`: `request.remote_addr` (the sign-in throttle, the logs)
    becomes the client's address, taken that many hops from the right, and the scheme and host
    the client used come from `X-Forwarded-Proto` and `X-Forwarded-Host`. With 0 the headers
    are ignored (a client could write anything in them) and the socket's peer is the client."""
    if trusted_proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies, x_host=trusted_proxies
        )


def install_request_metrics(app: Flask, registry: CollectorRegistry, service: str) -> None:
    requests_total = Counter(
        f"bridges_{service}_http_requests_total",
        f"HTTP requests answered by the {service}",
        ["method", "endpoint", "status"],
        registry=registry,
    )
    latency = Histogram(
        f"bridges_{service}_http_request_seconds",
        "Time to answer an HTTP request",
        ["method", "endpoint"],
        registry=registry,
    )

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()
        # A request id the client sent (if it looks sane), else a new one: it becomes the
        # events' correlation_id and is echoed back, so a support call can find the events.
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    log = structlog.get_logger(f"{service}.http")

    @app.after_request
    def _record(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        if started is not None:
            latency.labels(request.method, endpoint).observe(seconds)
        requests_total.labels(request.method, endpoint, str(response.status_code)).inc()
        if g.get("request_id"):
            response.headers.setdefault("X-Request-ID", g.request_id)
        if endpoint not in _QUIET_ENDPOINTS:
            # The client's address is the proxy's unless BRIDGES_TRUSTED_PROXIES is set.
            log.info(
                "http.request",
                method=request.method,
                endpoint=endpoint,
                status=response.status_code,
                ms=round(seconds * 1000, 1),
                client=request.remote_addr,
            )
        structlog.contextvars.clear_contextvars()
        return response


# Probes and scrapes every few seconds would flood the logs.
_QUIET_ENDPOINTS = frozenset({"/healthz", "/readyz", "/metrics"})


_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://cdn.jsdelivr.net; frame-ancestors 'none'; base-uri 'none'"
)


def install_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        docs = request.path.startswith("/docs")
        headers.setdefault("Content-Security-Policy", _DOCS_CSP if docs else _API_CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cache-Control", "no-store")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class DisplayableJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with every string of a response made `displayable` first (shared/text.py).

    Only responses: `dumps` stays exact, because it also writes what a test client sends, and a
    request must reach the input rules as the client wrote it."""

    def response(self, *args: Any, **kwargs: Any) -> Any:
        shown = [displayable_all(arg) for arg in args]
        return super().response(*shown, **{k: displayable_all(v) for k, v in kwargs.items()})


def _displayable_output(value: Any) -> Any:
    if isinstance(value, Markup):
        # Already escaped markup; only characters the product refuses are swapped for U+FFFD.
        safe = displayable(str(value))
        return Markup(safe)  # noqa: S704  # nosec B704: escaped already, see above
    if isinstance(value, str):
        return displayable(value)
    return value


def install_displayable_output(app: Flask) -> None:
    """Text stored before the text rules (a lone surrogate, a NUL) is shown as U+FFFD in every
    JSON answer and every value a template prints, instead of failing the response."""
    app.json = DisplayableJSONProvider(app)
    app.jinja_env.finalize = _displayable_output
