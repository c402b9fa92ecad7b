"""RFC 9457 problem details: every error either service answers has this shape."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Response, json

from .i18n import N_, Message, gettext, language, translate

PROBLEM_TYPE_BASE = "https://bridges.invalid/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem (documentation only)."""

    type = ma.fields.String(metadata={"description": "A URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "Short summary of the kind of problem"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong this time"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Field errors: dotted field path → messages (422 only)"},
    )


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers) if headers else {}


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.slug,
        "title": gettext(problem.title),
        "status": problem.status,
        "detail": problem_detail(problem.detail),
    }
    if problem.errors:
        # Each field's messages in the language of the moment too (the paths never change).
        body["errors"] = {
            path: [translate(message) for message in messages]
            for path, messages in problem.errors.items()
        }
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers["Content-Language"] = language()
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


# Details that carry a value: the English as the code writes it, and its msgid. Titles and
# plain details are msgids themselves (marked N_ where the problem is raised).
_DETAIL_PATTERNS = [
    (re.compile(r"no (?P<what>[a-z ]+) with that id"), N_("no %(what)s with that id")),
    (
        re.compile(
            r"the claim is at version (?P<current>\d+), not (?P<given>\d+); reload and retry"
        ),
        N_("the claim is at version %(current)s, not %(given)s; reload and retry"),
    ),
    (re.compile(r"Check these fields: (?P<fields>.+)"), N_("Check these fields: %(fields)s")),
    # Receipts refused (services/ledger/receipts/content.py).
    (
        re.compile(r"the file is larger than (?P<size>[\d,]+) bytes"),
        N_("the file is larger than %(size)s bytes"),
    ),
    (
        re.compile(r"the file is not a valid (?P<kind>[A-Z]+) image"),
        N_("the file is not a valid %(kind)s image"),
    ),
    (
        re.compile(r"the image has more than (?P<pixels>[\d,]+) pixels \((?P<size>[^)]+)\)"),
        N_("the image has more than %(pixels)s pixels (%(size)s)"),
    ),
    (
        re.compile(r"the image has more than (?P<pixels>[\d,]+) pixels"),
        N_("the image has more than %(pixels)s pixels"),
    ),
    (
        re.compile(r"the file looks like a (?P<kind>[A-Z]+) image but cannot be read"),
        N_("the file looks like a %(kind)s image but cannot be read"),
    ),
]


def problem_detail(detail: str) -> str:
    """A problem's detail in the language of the moment (as written when it has no msgid)."""
    if isinstance(detail, Message):
        return translate(detail)
    for pattern, msgid in _DETAIL_PATTERNS:
        match = pattern.fullmatch(detail)
        if match:
            values = match.groupdict()
            if "what" in values:
                values["what"] = gettext(values["what"])
            return gettext(msgid, **values)
    return gettext(detail)


# What a 404 can name ("no claim with that id"), so its noun reads in Welsh too.
RESOURCE_NAMES = (
    N_("claim"),
    N_("payment"),
    N_("organisation"),
    N_("partnership"),
    N_("alert"),
    N_("statement"),
    N_("person"),
)


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error messages into dotted paths: {"lines.0.hours": [...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "body"
            for sub_path, sub_messages in flatten_messages(value, path).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            flat[prefix or "body"] = [str(m) for m in messages]
        else:
            for item in messages:
                for sub_path, sub_messages in flatten_messages(item, prefix).items():
                    flat.setdefault(sub_path, []).extend(sub_messages)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


def validation_problem(errors: Mapping[str, list[str]], detail: str | None = None) -> Problem:
    fields = ", ".join(sorted(errors))
    return Problem(
        422,
        "validation",
        N_("The request has invalid fields"),
        detail or f"Check these fields: {fields}",
        errors=errors,
    )
