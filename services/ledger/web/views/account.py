"""Sign in, sign out, and the home page each person lands on."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import update
from werkzeug.exceptions import TooManyRequests

from shared.text import text_fault

from ...access import APPROVING_ROLES, VCSE_ROLES
from ...application import Ledger
from ...identity import load_provider, record_sign_in
from ...store.views import people
from ..forms import SignInForm
from ..passwords import hash_password, needs_rehash, verify_password
from ..presenters import FormErrors
from ..sessions import current_person, end_session, find_by_email, start_session
from ..throttle import SignInThrottle
from .common import all_claims, approval_queue
from .idp import providers_for_sign_in


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no '//' tricks)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def register(bp: Blueprint, ledger: Ledger, throttle: SignInThrottle) -> None:
    engine = ledger.store.engine

    def page(form: SignInForm, errors: FormErrors) -> str:
        return render_template(
            "sign_in.html", form=form, errors=errors, providers=providers_for_sign_in(ledger)
        )

    @bp.route("/sign-in", methods=["GET", "POST"])
    def sign_in() -> Any:
        form = SignInForm()
        errors = FormErrors()
        if request.method == "GET":
            form.next.data = _safe_next(request.args.get("next")) or ""
            return page(form, errors)
        email = (form.email.data or "").strip().lower()
        address = request.remote_addr or "unknown"
        if throttle.blocked(email, address):
            error = TooManyRequests()
            error.retry_after = throttle.retry_after(email, address)
            raise error
        if not email:
            errors.add("email", "is required")
        elif fault := text_fault(email):
            errors.add("email", fault)
        if not form.password.data:
            errors.add("password", "is required")
        if errors:
            return page(form, errors), 400
        row = find_by_email(engine, email)
        if row is None or not verify_password(row.password_hash, form.password.data or ""):
            throttle.failed(email, address)
            errors.add("_schema", "Enter a correct email address and password")
            form.password.data = ""
            return page(form, errors), 400
        throttle.succeeded(email, address)
        with engine.connect() as connection:
            uses_idp = load_provider(connection, row.organisation_id) is not None
        # Local passwords are for organisations without their own accounts, and for operators
        # (an identity provider never gives the operator role).
        if uses_idp and "operator" not in row.roles:
            errors.add("_schema", "Your organisation signs in with its own account: use its button")
            form.password.data = ""
            return page(form, errors), 400
        password_hash = row.password_hash
        if needs_rehash(password_hash):
            password_hash = hash_password(form.password.data or "")
            with engine.begin() as connection:
                connection.execute(
                    update(people).where(people.c.id == row.id).values(password_hash=password_hash)
                )
        with engine.begin() as connection:
            record_sign_in(connection, ledger.clock(), row.id, "password", address=address)
        start_session(row.id, password_hash)
        return redirect(_safe_next(form.next.data) or url_for("web.home"))

    @bp.route("/sign-out", methods=["POST"])
    def sign_out() -> Any:
        end_session()
        flash("You have signed out.", "success")
        return redirect(url_for("web.sign_in"))

    @bp.route("/")
    def home() -> Any:
        if g.get("person") is None:
            return redirect(url_for("web.sign_in"))
        principal = current_person().principal
        waiting_on_us: list[dict[str, Any]] = []
        queue: list[dict[str, Any]] = []
        if principal.has_any(VCSE_ROLES):
            waiting_on_us = [c for c in all_claims(ledger, principal) if c["status"] == "queried"]
        if principal.has_any(APPROVING_ROLES):
            queue = approval_queue(ledger, principal)
        return render_template(
            "home.html",
            waiting_on_us=waiting_on_us,
            to_decide=[c for c in queue if c["status"] == "submitted"],
            overdue=[c for c in queue if c["status"] == "submitted" and c["approval_overdue"]],
        )
