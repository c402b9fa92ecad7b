"""The alert feed from the notifier: newest first, filtered by status, each with an
"Acknowledge" button (a POST form with a CSRF token, passed on to the notifier as the person).

When the notifier cannot answer, the page still renders and says so in a banner."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from shared.i18n import N_, gettext

from ...access import APPROVING_ROLES, VCSE_ROLES, Principal
from ...application import Ledger
from ..notifier_client import (
    NotifierClient,
    NotifierNotFound,
    NotifierRefused,
    NotifierUnavailable,
)
from ..sessions import current_person, requires

ALERT_KINDS = {
    "approval_due_soon": N_("Approval due soon"),
    "approval_overdue": N_("Approval overdue"),
    "payment_due_soon": N_("Payment due soon"),
    "payment_overdue": N_("Payment overdue"),
    "query_unanswered": N_("Query unanswered"),
    "budget_threshold": N_("Budget threshold"),
    "equity_breach": N_("Equity breach"),
    "statement_ready": N_("Statement ready"),
}
ALERT_STATUSES = {
    "open": (N_("Open"), "govuk-tag--red"),
    "acknowledged": (N_("Acknowledged"), "govuk-tag--yellow"),
    "resolved": (N_("Resolved"), "govuk-tag--green"),
}
# The filter's choices; "all" sends no status to the notifier.
FILTERS = [
    ("open", N_("Open")),
    ("acknowledged", N_("Acknowledged")),
    ("resolved", N_("Resolved")),
    ("all", N_("All alerts")),
]
DEFAULT_FILTER = "open"
PAGE_SIZE = 50


def sees_notifier_pages(principal: Principal) -> bool:
    """Everyone in a partnership: the VCSE organisation's people, the payer's approvers and
    finance, and partner viewers (the notifier scopes what each of them sees)."""
    return principal.has_any(VCSE_ROLES | APPROVING_ROLES | {"partner_viewer"})


def kind_label(kind: str) -> str:
    label = ALERT_KINDS.get(kind)
    return gettext(label) if label else kind.replace("_", " ").capitalize()


def alert_status_tag(status: str) -> dict[str, str]:
    text, classes = ALERT_STATUSES.get(status, (status.capitalize(), "govuk-tag--grey"))
    return {"text": gettext(text), "classes": classes}


def _status_filter(raw: str | None) -> str:
    return raw if raw in dict(FILTERS) else DEFAULT_FILTER


def register(bp: Blueprint, ledger: Ledger, notifier: NotifierClient) -> None:
    bp.add_app_template_filter(kind_label, "alert_kind")
    bp.add_app_template_filter(alert_status_tag, "alert_status_tag")

    @bp.route("/alerts")
    @requires(sees_notifier_pages)
    def alerts() -> Any:
        person = current_person()
        status = _status_filter(request.args.get("status"))
        cursor = request.args.get("cursor") or None
        page: dict[str, Any] = {"items": [], "next_cursor": None}
        unavailable = False
        try:
            page = notifier.alerts(
                person.principal.person_id,
                status=None if status == "all" else status,
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        except NotifierRefused:
            # An out-of-date or altered "older alerts" link: start again from the newest.
            return redirect(url_for("web.alerts", status=status))
        except NotifierUnavailable:
            unavailable = True
        return render_template(
            "alerts/index.html",
            alerts=page.get("items") or [],
            next_cursor=page.get("next_cursor"),
            status=status,
            filter_options=[
                {"value": value, "text": text, "selected": value == status}
                for value, text in FILTERS
            ],
            filter_label=gettext(dict(FILTERS)[status]),
            paged=cursor is not None,
            unavailable=unavailable,
        )

    @bp.route("/alerts/<alert_id>/acknowledge", methods=["POST"])
    @requires(sees_notifier_pages)
    def acknowledge_alert(alert_id: str) -> Any:
        # CSRF was checked for every POST before this view runs (see build_web).
        person = current_person()
        status = _status_filter(request.form.get("status"))
        try:
            alert = notifier.acknowledge(person.principal.person_id, alert_id)
        except NotifierNotFound:
            abort(404)
        except (NotifierUnavailable, NotifierRefused):
            flash(
                gettext(
                    "The alert could not be acknowledged because alerts are not available right "
                    "now. Try again in a few minutes."
                ),
                "error",
            )
            return redirect(url_for("web.alerts", status=status))
        title = str(alert.get("title") or gettext("the alert"))
        flash(gettext("Alert acknowledged: %(title)s", title=title), "success")
        return redirect(url_for("web.alerts", status=status))
