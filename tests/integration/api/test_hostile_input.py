"""Hostile input to the ledger API: bodies nested too deep or not UTF-8, and text the product
does not accept (shared/text.py) in every free-text field. Each refusal is a problem with the
precise field, nothing is written and the service stays healthy; the pages that show accepted
multi-line text still render."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.http import MAX_JSON_DEPTH
from tests.integration.api.conftest import TODAY
from tests.integration.api.test_bad_input import assert_refused
from tests.support.world import World

# (case id, value, accepted in a multi-line field, accepted in a one-line field)
TEXT_CASES = [
    ("lone-surrogate", "Amina \ud800 Khan", False, False),
    ("lone-low-surrogate", "\udfff", False, False),
    ("nul", "Amina\x00Khan", False, False),
    ("bell", "Amina\x07", False, False),
    ("escape", "\x1b[31mred", False, False),
    ("del", "Amina\x7f", False, False),
    ("c1-next-line", "Amina\x85Khan", False, False),
    ("c1-csi", "\x9b31m", False, False),
    ("bidi-override", "BACS \u202e4271", False, False),
    ("bidi-isolate", "Amina \u2067Khan\u2069", False, False),
    ("newline", "Amina\nKhan", True, False),
    ("crlf", "first line\r\nsecond line", True, False),
    ("tab", "Amina\tKhan", True, False),
    ("very-long", "x" * 20_000, False, False),
    ("number", 12345, False, False),
    ("list", ["Amina"], False, False),
]


@pytest.fixture
def w(world: World) -> Iterator[World]:
    world.before = world.events_written()  # type: ignore[attr-defined]
    yield world
    assert world.api.client.get("/healthz").status_code == 200


def _claim(w: World, **line: Any) -> dict[str, Any]:
    body = w.claim_body(w.a, TODAY)
    body["lines"][0].update(line)
    return body


def _submitted(w: World) -> dict[str, Any]:
    return w.submit(w.a, TODAY)


def _queried(w: World) -> dict[str, Any]:
    return w.act(w.a, _submitted(w), "query", "approver", {"question": "Which workshop?"})


def _payment(w: World) -> dict[str, Any]:
    claim = w.act(w.a, _submitted(w), "approve", "approver", {})
    return w.pay(w.a, claim, 1000, TODAY)


Setup = Callable[[World], Any]
# field → (role, setup returning the request's path, body builder, multi-line)
FIELDS: dict[str, tuple[str, Setup, Callable[[World, Any, Any], Any], bool]] = {
    "organisations.name": (
        "operator",
        lambda w: "/organisations",
        lambda w, s, v: {"name": v, "kind": "vcse"},
        False,
    ),
    "organisations.charity_number": (
        "operator",
        lambda w: "/organisations",
        lambda w, s, v: {"name": "Hope Street", "kind": "vcse", "charity_number": v},
        False,
    ),
    "organisations.contact_email": (
        "operator",
        lambda w: "/organisations",
        lambda w, s, v: {"name": "Hope Street", "kind": "vcse", "contact_email": v},
        False,
    ),
    "people.name": (
        "operator",
        lambda w: f"/organisations/{w.a.payee_id}/people",
        lambda w, s, v: {"name": v, "email": "amina@hope.example", "roles": ["vcse_member"]},
        False,
    ),
    "people.email": (
        "operator",
        lambda w: f"/organisations/{w.a.payee_id}/people",
        lambda w, s, v: {"name": "Amina", "email": v, "roles": ["vcse_member"]},
        False,
    ),
    "partnerships.name": (
        "operator",
        lambda w: "/partnerships",
        lambda w, s, v: {"name": v, "organisation_ids": [w.a.payer_id, w.a.payee_id]},
        False,
    ),
    "partnerships.organisation_ids.0": (
        "operator",
        lambda w: "/partnerships",
        lambda w, s, v: {"name": "P", "organisation_ids": [v, w.a.payee_id]},
        False,
    ),
    "claims.agreement_id": (
        "vcse_member",
        lambda w: "/claims",
        lambda w, s, v: {**w.claim_body(w.a, TODAY), "agreement_id": v},
        False,
    ),
    "claims.lines.0.worker": (
        "vcse_member",
        lambda w: "/claims",
        lambda w, s, v: _claim(w, worker=v),
        False,
    ),
    "claims.lines.0.description": (
        "vcse_member",
        lambda w: "/claims",
        lambda w, s, v: _claim(w, description=v),
        True,
    ),
    "claims.expenses.0.description": (
        "vcse_member",
        lambda w: "/claims",
        lambda w, s, v: {
            **w.claim_body(w.a, TODAY),
            "expenses": [{"category": "travel", "amount_pence": 100, "description": v}],
        },
        True,
    ),
    "query.question": (
        "approver",
        lambda w: _submitted(w),
        lambda w, s, v: {"question": v},
        True,
    ),
    "answer.answer": ("vcse_member", _queried, lambda w, s, v: {"answer": v}, True),
    "reject.reason": ("approver", _submitted, lambda w, s, v: {"reason": v}, True),
    "approve.reason": (
        "approver",
        _submitted,
        lambda w, s, v: {"amount_pence": 100, "reason": v},
        True,
    ),
    "payments.reference": (
        "finance",
        _submitted,
        lambda w, s, v: {
            "payer_id": w.a.payer_id,
            "payee_id": w.a.payee_id,
            "paid_on": TODAY.isoformat(),
            "reference": v,
            "allocations": [{"claim_id": s["id"], "amount_pence": 100}],
        },
        False,
    ),
    "reverse.reason": ("finance", _payment, lambda w, s, v: {"reason": v}, True),
}


def _send(w: World, name: str, value: Any) -> tuple[Any, str]:
    role, setup, body, _ = FIELDS[name]
    token = w.operator_token if role == "operator" else w.a.tokens[role]
    resource = setup(w)
    w.before = w.events_written()  # type: ignore[attr-defined]
    action = name.split(".")[0]
    headers: dict[str, str] = {}
    if isinstance(resource, str):
        path = resource
    elif action == "payments":
        path = "/payments"
    elif action == "reverse":
        path = f"/payments/{resource['id']}/reverse"
    else:
        path = f"/claims/{resource['id']}/{action}"
        headers["If-Match"] = f'"{resource["version"]}"'
    response = w.api.post(path, token, body(w, resource, value), headers=headers)
    return response, name.split(".", 1)[1]


@pytest.mark.parametrize("name", sorted(FIELDS))
@pytest.mark.parametrize(("case", "value", "in_multiline", "in_line"), TEXT_CASES)
def test_text_the_product_does_not_accept_is_refused_with_the_field(
    w: World, name: str, case: str, value: Any, in_multiline: bool, in_line: bool
) -> None:
    accepted = in_multiline if FIELDS[name][3] else in_line
    response, field = _send(w, name, value)
    if accepted:
        assert response.status_code in (200, 201), response.get_json()
        assert w.events_written() > w.before  # type: ignore[attr-defined]
        return
    problem = assert_refused(w, response, 422, field=field)
    assert w.events_written() == w.before, "a refused request wrote events"  # type: ignore[attr-defined]
    if isinstance(value, str) and case not in ("very-long",):
        assert any(
            "U+" in message or "characters" in message for message in problem["errors"][field]
        ), problem


def test_the_refusal_names_the_character_and_where_it_is(w: World) -> None:
    response, _ = _send(w, "claims.lines.0.worker", "Amina\x00")
    problem = assert_refused(w, response, 422, field="lines.0.worker")
    assert problem["errors"]["lines.0.worker"] == [
        "must not contain control characters (U+0000 at character 6)"
    ]
    response, _ = _send(w, "organisations.name", "\ud800")
    problem = assert_refused(w, response, 422, field="name")
    assert "lone surrogate (U+D800 at character 1)" in problem["errors"]["name"][0]
    response, _ = _send(w, "payments.reference", "BACS\n42")
    problem = assert_refused(w, response, 422, field="reference")
    assert problem["errors"]["reference"] == [
        "must be a single line: no line breaks or tabs (U+000A at character 5)"
    ]


def test_accepted_multiline_text_shows_on_the_claim_page_and_in_the_api(w: World) -> None:
    response, _ = _send(w, "claims.lines.0.description", "Workshop\n\tpart two")
    assert response.status_code == 201
    claim = response.get_json()
    assert claim["lines"][0]["description"] == "Workshop\n\tpart two"
    fetched = w.api.get(f"/claims/{claim['id']}", w.a.tokens["vcse_member"])
    assert fetched.status_code == 200


@pytest.mark.parametrize("value", ["bad\x00id", "\x1b[2J", "x\x85"])
def test_query_parameters_are_checked_too(w: World, value: str) -> None:
    response = w.api.get(
        "/claims", w.a.tokens["vcse_member"], query_string={"partnership_id": value}
    )
    assert_refused(w, response, 422, field="partnership_id")


@pytest.mark.parametrize("value", ["bad%00id", "%C2%85", "%1B"])
def test_path_parameters_that_are_not_text_are_not_found(w: World, value: str) -> None:
    response = w.api.get(f"/claims/{value}", w.a.tokens["vcse_member"])
    assert_refused(w, response, 404)


def _post_raw(w: World, path: str, data: bytes) -> Any:
    return w.api.client.post(
        "/api/v1" + path,
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {w.a.tokens['vcse_member']}"},
    )


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_before_parsing(w: World, opener: str) -> None:
    response = _post_raw(w, "/claims", opener.encode() * 10_000)
    problem = assert_refused(w, response, 400, says=f"more than {MAX_JSON_DEPTH} levels deep")
    assert problem["type"].endswith("/bad-request")
    assert w.events_written() == w.before  # type: ignore[attr-defined]


def test_nesting_at_the_limit_is_parsed_as_usual(w: World) -> None:
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    response = _post_raw(w, "/claims", body.encode())
    assert_refused(w, response, 422)


def test_brackets_inside_strings_do_not_count(w: World) -> None:
    body = w.claim_body(w.a, TODAY)
    body["lines"][0]["description"] = "[" * 100 + '\\"{' * 50
    response = w.api.post("/claims", w.a.tokens["vcse_member"], body)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "data", [b'{"agreement_id": "\xff\xfe"}', b'{"agreement_id": "\xed\xa0\x80"}', b"\xc3"]
)
def test_a_body_that_is_not_utf8_is_refused(w: World, data: bytes) -> None:
    assert_refused(w, _post_raw(w, "/claims", data), 400, says="not valid UTF-8")


def test_an_empty_idempotency_key_is_refused(w: World) -> None:
    body = w.claim_body(w.a, TODAY)
    response = w.api.post(
        "/claims", w.a.tokens["vcse_member"], body, headers={"Idempotency-Key": " "}
    )
    assert_refused(w, response, 400, says="Idempotency-Key")
    assert w.events_written() == w.before  # type: ignore[attr-defined]


def test_if_match_star_matches_the_current_version(w: World) -> None:
    claim = _submitted(w)
    path = f"/claims/{claim['id']}/approve"
    response = w.api.post(path, w.a.tokens["approver"], {}, headers={"If-Match": "*"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "approved"
    assert response.headers["ETag"] == f'"{claim["version"] + 1}"'
