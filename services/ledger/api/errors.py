"""Map every failure the ledger can meet onto a problem document."""

from __future__ import annotations

import json

from flask import Response, request
from werkzeug.exceptions import HTTPException

from shared.problems import Problem, flatten_messages, problem_response, validation_problem

from ..domain.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from ..errors import Forbidden, NotFound, StaleVersion
from ..store.event_store import ConcurrencyConflict

_HTTP_DETAIL = {
    400: ("bad-request", "The request could not be read"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
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
            detail = f"the body is not valid JSON: {json_error}"
    if status == 413:
        detail = "the request body is larger than this service accepts"
    headers = dict(data.get("headers") or {})
    return problem_response(Problem(status, slug, title, str(detail), headers=headers))


def _json_error() -> str | None:
    try:
        json.loads(request.get_data(cache=True) or b"null")
    except ValueError as error:
        return str(error)
    return None


def problem_from_domain(error: DomainError) -> Problem:
    if isinstance(error, ValidationFailed):
        return validation_problem(error.errors, error.message)
    if isinstance(error, InvalidTransition):
        return Problem(
            409, "invalid-transition", "Not possible in the claim's state", error.message
        )
    if isinstance(error, NotAllowed):
        return Problem(403, "not-allowed", "Not allowed", error.message)
    return Problem(422, "rejected", "The request was refused", error.message)


def problem_for(error: Exception) -> Problem | None:
    """The problem document for an error the application raises, or None if unexpected."""
    if isinstance(error, Problem):
        return error
    if isinstance(error, DomainError):
        return problem_from_domain(error)
    if isinstance(error, NotFound):
        return Problem(404, "not-found", "Not found", str(error))
    if isinstance(error, Forbidden):
        return Problem(403, "forbidden", "Forbidden", str(error))
    if isinstance(error, StaleVersion):
        return Problem(
            412,
            "stale-version",
            "The claim has changed",
            str(error),
            headers={"ETag": f'"{error.current}"'},
        )
    if isinstance(error, ConcurrencyConflict):
        return Problem(
            409,
            "conflict",
            "Changed by someone else",
            "another change to the same record was saved first; reload and retry",
        )
    return None
