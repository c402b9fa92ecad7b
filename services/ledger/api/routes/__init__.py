"""The ledger's API routes, one blueprint per resource, each built with its collaborators."""

from __future__ import annotations

from typing import Any

from ...application import Ledger
from .audit import build_audit
from .claims import build_claims
from .feed import build_feed
from .organisations import build_organisations
from .partnerships import build_partnerships
from .payments import build_payments
from .people import build_people

PREFIX = "/api/v1"


def register_routes(api: Any, ledger: Ledger) -> None:
    for blueprint in (
        build_organisations(ledger),
        build_partnerships(ledger),
        build_claims(ledger),
        build_payments(ledger),
        build_feed(ledger),
        build_audit(ledger),
        build_people(ledger),
    ):
        api.register_blueprint(blueprint, url_prefix=PREFIX)
