"""The web forms: one site with one sign-in, in the style of the GOV.UK Design System.

The pages call the `Ledger` application service in the same process (not the HTTP API),
reuse `access.py` for permissions, and turn the application's errors into pages: NotFound →
404, Forbidden → 403, a refused command → the GOV.UK error summary.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Response, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException

from shared.logging import get_logger
from shared.settings import LedgerSettings

from ..application import Ledger
from ..errors import Forbidden, NotFound
from . import charts, presenters
from .forms import SignOutForm
from .navigation import navigation
from .notifier_client import NotifierClient
from .security import web_security_headers
from .sessions import load_signed_in
from .throttle import SignInThrottle
from .views import (
    account,
    alerts,
    balances,
    claims,
    decisions,
    idp,
    indicators,
    payments,
    statements,
)

HERE = Path(__file__).resolve().parent
ERROR_TITLES = {
    400: ("Sorry, there is a problem with your request", "Go back, reload the page and try again."),
    403: ("You do not have permission to see this page", "Your role does not allow it."),
    404: ("Page not found", "Check the address, or go back to your home page."),
    405: ("Sorry, that did not work", "Go back and use the buttons on the page."),
    429: ("Too many attempts", "Wait 15 minutes, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later."),
}


class WebBlueprint(Blueprint):
    """A blueprint whose templates can also import the govuk-frontend-jinja macros."""

    @property
    def jinja_loader(self) -> BaseLoader | None:
        return ChoiceLoader(
            [
                FileSystemLoader(str(HERE / "templates")),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        )


def build_web(ledger: Ledger, settings: LedgerSettings) -> Blueprint:
    """The site's blueprint, mounted at `/` beside the JSON API."""
    bp = WebBlueprint(
        "web",
        __name__,
        static_folder=str(HERE / "static"),
        static_url_path="/assets",
    )
    csrf = CSRFProtect()
    oauth = OAuth()
    log = get_logger("ledger.web")
    throttle = SignInThrottle(
        ledger.store.engine,
        settings.login_max_failures,
        settings.login_window_seconds,
        now=ledger.clock,
    )
    lifetime_seconds = settings.session_hours * 3600

    @bp.record_once
    def _install(state: Any) -> None:
        app = state.app
        # CSRF only on the web forms: the JSON API authenticates with bearer tokens.
        app.config["WTF_CSRF_CHECK_DEFAULT"] = False
        # A token lives as long as the session (a claim can take a while to fill in).
        app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
        csrf.init_app(app)
        oauth.init_app(app)

    @bp.before_request
    def _before() -> None:
        if request.endpoint == "web.static":
            return
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        g.person = load_signed_in(ledger.store.engine, lifetime_seconds)

    @bp.after_request
    def _headers(response: Response) -> Response:
        https = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
        return web_security_headers(response, https=https)

    @bp.context_processor
    def _context() -> dict[str, Any]:
        person = g.get("person")
        return {
            "person": person,
            "today": ledger.today(),
            "navigation": navigation(person.principal if person else None),
            "sign_out_form": SignOutForm(formdata=None),
        }

    for name in (
        "money",
        "long_date",
        "claim_reference",
        "status_tag",
        "activity_label",
        "days_phrase",
    ):
        bp.add_app_template_filter(getattr(presenters, name), name)

    @bp.app_template_global("countdown")
    def _countdown(due: date | None) -> str:
        return "" if due is None else presenters.countdown(due, ledger.today())

    @bp.app_template_global("overdue")
    def _overdue(due: date | None) -> bool:
        return due is not None and presenters.is_overdue(due, ledger.today())

    for chart in (
        "aging_chart",
        "days_to_pay_chart",
        "aging_over_time_chart",
        "on_time_chart",
    ):
        bp.add_app_template_global(getattr(charts, chart), chart)
    bp.add_app_template_filter(charts.days_to_pay_label, "days_to_pay_label")

    @bp.record_once
    def _globals(state: Any) -> None:
        state.app.jinja_env.globals.update(
            AGING_LABELS=presenters.AGING_LABELS, RATE_BASES=presenters.RATE_BASES
        )

    def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
        title, advice = ERROR_TITLES.get(status, ERROR_TITLES[500])
        body = render_template("error.html", title=title, advice=detail or advice, status=status)
        return body, status

    @bp.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        return error_page(
            400,
            "The form could not be checked (it may be out of date). "
            "Go back, reload the page and try again.",
        )

    @bp.errorhandler(NotFound)
    def _not_found(error: NotFound) -> tuple[str, int]:
        return error_page(404)

    @bp.errorhandler(Forbidden)
    def _forbidden(error: Forbidden) -> tuple[str, int]:
        return error_page(403, str(error)[:1].upper() + str(error)[1:] + ".")

    @bp.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error", path=request.path, method=request.method)
        return error_page(500)

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        status = error.code or 500
        if status < 400:  # pragma: no cover - redirects are not errors
            return error
        page, code = error_page(status if status in ERROR_TITLES else 500)
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        return page, code, headers

    account.register(bp, ledger, throttle)
    idp.register(bp, ledger, oauth)
    claims.register(bp, ledger)
    decisions.register(bp, ledger)
    payments.register(bp, ledger)
    balances.register(bp, ledger)
    # Alerts, statements and indicators live in the notifier: fetched over its HTTP API.
    notifier = NotifierClient(settings.notifier_url, ledger.token_key)
    alerts.register(bp, ledger, notifier)
    statements.register(bp, ledger, notifier)
    indicators.register(bp, ledger, notifier)
    return bp


def web_config(settings: LedgerSettings, *, testing: bool, secret_key: str) -> dict[str, Any]:
    """Flask settings for the session cookie of the web forms."""
    secure = settings.secure_cookies if settings.secure_cookies is not None else not testing
    return {
        "SECRET_KEY": secret_key,
        "SESSION_COOKIE_NAME": "bridges_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
    }
