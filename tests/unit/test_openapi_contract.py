"""What both OpenAPI documents must say (and the committed files match the code, see the
services' own tests): errors are problem documents, the headers' limits, If-Match: *, and the
statement's formats."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.ledger.api.openapi import openapi_document as ledger_document
from services.notifier.api.openapi import openapi_document as notifier_document

STATEMENT = "/api/v1/statements/{partnership_id}/{payee_id}/{payer_id}"


@pytest.fixture(scope="module", params=["ledger", "notifier"])
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    return ledger_document() if request.param == "ledger" else notifier_document()


def _responses(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, response in document["components"].get("responses", {}).items():
        yield "components", name, response
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                yield f"{method} {path}", status, response


def test_every_error_is_declared_as_a_problem_document(document: dict[str, Any]) -> None:
    errors = [
        (where, status, response)
        for where, status, response in _responses(document)
        if "$ref" not in response and not status.startswith(("1", "2", "3"))
    ]
    assert errors, "no error responses declared"
    for where, status, response in errors:
        assert set(response.get("content", {})) == {"application/problem+json"}, (where, status)


def test_the_idempotency_key_is_declared_with_its_limits() -> None:
    declared = [
        parameter
        for operations in ledger_document()["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter.get("name") == "Idempotency-Key"
    ]
    assert declared
    for parameter in declared:
        assert parameter["schema"]["minLength"] == 1
        assert parameter["schema"]["maxLength"] == 255


def test_if_match_documents_that_a_star_matches_the_current_version() -> None:
    declared = [
        parameter
        for operations in ledger_document()["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter.get("name") == "If-Match"
    ]
    assert declared
    assert all("or * for whatever version is current" in p["description"] for p in declared)


def test_the_statement_declares_its_three_formats_and_the_json_schema() -> None:
    document = notifier_document()
    ok = document["paths"][STATEMENT]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/csv", "application/pdf"}
    reference = ok["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert {"id", "kind", "payee", "payer", "partnership", "totals"} <= set(schema["properties"])
