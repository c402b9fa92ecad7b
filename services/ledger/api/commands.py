"""Running a command over HTTP: the idempotency key, the unit of work, the saved response.

The response of a command is saved in the same transaction as its events, so a client that
retries with the same `Idempotency-Key` gets the original answer whether or not it saw it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import marshmallow as ma
from flask import Response, request

from shared.i18n import N_
from shared.problems import Problem
from shared.text import text_fault

from ..access import Principal
from ..application import Ledger
from ..store import idempotency
from ..store.event_store import UnitOfWork
from ..store.idempotency import request_fingerprint

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

CommandResult = tuple[Mapping[str, Any], Mapping[str, str]]


def _request_hash() -> str:
    return request_fingerprint(request.method, request.path, request.get_json(silent=True))


def _json_response(status: int, body: Any, headers: Mapping[str, str]) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in headers.items():
        response.headers[name] = value
    return response


def execute(
    ledger: Ledger,
    principal: Principal,
    status: int,
    schema: ma.Schema,
    command: Callable[[UnitOfWork], CommandResult],
    *,
    body: Any = None,
) -> Response:
    """Run `command` in one unit of work, honouring the request's Idempotency-Key. `body`:
    what identifies a request that is not JSON (an upload's content hash), for the key."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None:
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or text_fault(key) is not None:
            raise Problem(
                400,
                "bad-idempotency-key",
                N_("Invalid Idempotency-Key"),
                f"the Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters, "
                "with no control characters",
            )
    if key is None:
        with ledger.store.unit_of_work() as uow:
            result, headers = command(uow)
            body = schema.dump(result)
        return _json_response(status, body, headers)

    keys = ledger.idempotency
    scope = idempotency.idempotency_scope(principal.person_id, request.method, request.path)
    fingerprint = (
        _request_hash() if body is None else request_fingerprint(request.method, request.path, body)
    )
    # The key's record is written in the command's own transaction: a failure or a crash
    # before commit leaves nothing behind, so a retry runs at once.
    with ledger.store.unit_of_work() as uow:
        outcome = keys.begin(uow, scope, key, fingerprint)
        if isinstance(outcome, idempotency.Started):
            result, headers = command(uow)
            body = schema.dump(result)
            keys.complete(uow, scope, key, fingerprint, status, dict(headers), body)
            return _json_response(status, body, headers)
    if isinstance(outcome, idempotency.Replay):
        response = _json_response(outcome.status, outcome.body, outcome.headers)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    if isinstance(outcome, idempotency.Mismatch):
        raise Problem(
            422,
            "idempotency-key-reused",
            N_("Idempotency-Key reused with another request"),
            N_("this Idempotency-Key was already used with a different body; use a new key"),
        )
    raise Problem(
        409,
        "idempotency-key-in-flight",
        N_("Request already in progress"),
        N_("a request with this Idempotency-Key is still being processed; retry shortly"),
        headers={"Retry-After": "1"},
    )
