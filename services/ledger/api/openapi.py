"""The OpenAPI document as the code defines it (committed as services/ledger/openapi.json)."""

from __future__ import annotations

from typing import Any

from shared.settings import LedgerSettings

from .app import create_app


def openapi_document() -> dict[str, Any]:
    app = create_app(LedgerSettings(database_url="sqlite://"))
    with app.app_context():
        spec = app.extensions["bridges.api"].spec
        return spec.to_dict()  # type: ignore[no-any-return]
