"""Small pieces every route uses: who is asking, and the documented headers."""

from __future__ import annotations

import re
from typing import Any

from flask import request

from shared.i18n import N_
from shared.problems import Problem

from ...access import Principal
from ...application import Ledger
from ..auth import authenticate

IDEMPOTENCY_DOC: dict[str, Any] = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": (
        "Same key and same body → the saved response; same key, other body → 422; "
        "while the first is still running → 409. Empty, longer than 255 characters or "
        "holding control characters → 400."
    ),
}
IF_MATCH_DOC: dict[str, Any] = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": (
        'The claim\'s version (its ETag), e.g. "1", or * for whatever version is current '
        "(RFC 9110: any current representation matches). Stale → 412, missing → 428."
    ),
}
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def principal_of(ledger: Ledger) -> Principal:
    return authenticate(ledger.store.engine)


def if_match_version() -> int | None:
    """The version If-Match names, or None for `*` (any current version)."""
    raw = request.headers.get("If-Match")
    if raw is None:
        raise Problem(
            428,
            "precondition-required",
            N_("If-Match required"),
            "send the claim's version in If-Match (from its ETag) so two people cannot "
            "overwrite each other",
        )
    if raw.strip() == "*":
        return None
    match = _ETAG.match(raw)
    if match is None:
        raise Problem(
            412,
            "stale-version",
            N_("The claim has changed"),
            f'If-Match {raw!r} is not a claim version such as "3"',
        )
    return int(match.group(1))


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}
