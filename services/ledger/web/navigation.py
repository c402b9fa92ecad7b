"""The service navigation. It grows by adding an item, each shown to the roles that may use
it: alerts, statements and indicators (fetched from the notifier) go to everyone in a
partnership, as the notifier scopes what each role sees there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import request, url_for

from shared.i18n import N_, gettext

from ..access import APPROVING_ROLES, VCSE_ROLES, Principal


@dataclass(frozen=True)
class NavItem:
    text: str
    endpoint: str
    shown_to: Callable[[Principal], bool]
    # Endpoints (besides `endpoint`) under which this item is the current section.
    section: tuple[str, ...] = ()


def _sees_claims(principal: Principal) -> bool:
    return principal.has_any(VCSE_ROLES | APPROVING_ROLES | {"partner_viewer"})


NAV_ITEMS: list[NavItem] = [
    NavItem(N_("Home"), "web.home", lambda p: True),
    NavItem(
        N_("Claims"),
        "web.claims",
        _sees_claims,
        ("web.claim", "web.new_claim", "web.answer_claim", "web.withdraw_claim"),
    ),
    NavItem(
        N_("Approvals"),
        "web.approvals",
        lambda p: p.has_any(APPROVING_ROLES),
        ("web.approve_claim", "web.query_claim", "web.reject_claim"),
    ),
    NavItem(
        N_("Payments"),
        "web.payments",
        lambda p: "finance" in p.roles,
        ("web.new_payment", "web.reverse_payment"),
    ),
    NavItem(N_("Balances"), "web.balances", _sees_claims, ("web.partnership_balances",)),
    # From the notifier, for everyone in a partnership; it scopes each person's view.
    NavItem(N_("Statements"), "web.statements", _sees_claims, ("web.statement_download",)),
    NavItem(N_("Indicators"), "web.indicators", _sees_claims),
    NavItem(N_("Alerts"), "web.alerts", _sees_claims, ("web.acknowledge_alert",)),
]


def navigation(principal: Principal | None) -> list[dict[str, object]]:
    """Items for the GOV.UK service navigation macro."""
    if principal is None:
        return []
    items: list[dict[str, object]] = []
    for item in NAV_ITEMS:
        if not item.shown_to(principal):
            continue
        current = request.endpoint == item.endpoint
        active = current or request.endpoint in item.section
        items.append(
            {
                "text": gettext(item.text),
                "href": url_for(item.endpoint),
                "current": current,
                "active": active,
            }
        )
    return items
