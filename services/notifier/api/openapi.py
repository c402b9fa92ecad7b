"""The notifier's OpenAPI document as the code defines it (committed as
services/notifier/openapi.json)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..settings import NotifierSettings
from .app import create_app


def openapi_document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as var_dir:
        settings = NotifierSettings(database_url="sqlite://")
        app = create_app(settings, var_dir=Path(var_dir))
        with app.app_context():
            return app.extensions["bridges.api"].spec.to_dict()  # type: ignore[no-any-return]
