"""Problem documents (RFC 9457) follow Accept-Language: titles and details in Welsh or
English; the type URI (the machine's key) never changes."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from tests.support.world import World


def test_problem_documents_follow_accept_language(app: Flask, world: World) -> None:
    client = app.test_client()
    welsh = {"Accept-Language": "cy"}
    response = client.get("/api/v1/claims", headers=welsh)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["Content-Language"] == "cy"
    assert response.json["title"] == "Mae angen dilysu"
    assert response.json["detail"] == "anfonwch docyn API fel 'Authorization: Bearer <token>'"
    assert response.json["type"].endswith("/unauthenticated")  # the slug never changes

    token = {"Authorization": f"Bearer {world.a.tokens['vcse_member']}"}
    missing = "/api/v1/claims/00000000-0000-0000-0000-000000000000"
    response = client.get(missing, headers={**token, **welsh})
    assert response.status_code == 404
    assert response.json["title"] == "Heb ddod o hyd iddo"
    assert response.json["detail"] == "dim hawliad gyda'r dynodydd hwnnw"

    english = client.get(missing, headers={**token, "Accept-Language": "en-GB"})
    assert english.json["title"] == "Not found"
    assert english.json["detail"] == "no claim with that id"
    assert client.get(missing, headers=token).json["title"] == "Not found"  # the default

    stale = client.post(
        f"/api/v1/claims/{world.submit(world.a, date(2026, 11, 16))['id']}/withdraw",
        headers={**token, **welsh, "If-Match": '"7"'},
        json={},
    )
    assert stale.status_code == 412
    assert stale.json["detail"] == (
        "mae'r hawliad ar fersiwn 1, nid 7; ail-lwythwch a rhowch gynnig arall arni"
    )
    bad = client.post(
        "/api/v1/claims", headers={**token, **welsh, "Content-Type": "application/json"}, data="{"
    )
    assert bad.status_code == 400
    assert bad.json["title"] == "Nid oedd modd darllen y cais"


def test_the_domains_refusals_read_in_welsh_in_detail_and_field_errors(
    app: Flask, world: World
) -> None:
    """ValidationFailed messages are marked where the domain makes them (values kept apart) and
    translated at the HTTP edge: detail and every field message, values in place."""
    client = app.test_client()
    token = {"Authorization": f"Bearer {world.a.tokens['vcse_member']}"}
    body = world.claim_body(world.a, date(2026, 11, 16))
    body["lines"][0]["worked_on"] = "2020-01-06"  # before the agreement
    body["lines"][1]["hours"] = 14
    body["lines"].append({**body["lines"][1], "hours": 14})  # 28 hours on one day

    def post(language: str) -> dict[str, Any]:
        headers = {**token, "Accept-Language": language}
        response = client.post("/api/v1/claims", headers=headers, json=body)
        assert response.status_code == 422, response.json
        document: dict[str, Any] = response.json
        return document

    welsh, english = post("cy"), post("en")
    assert set(welsh["errors"]) == set(english["errors"])  # the paths never change
    [within] = welsh["errors"]["lines.0.worked_on"]
    assert within.startswith("rhaid iddo fod o fewn cyfnod y cytundeb (20")
    assert welsh["errors"]["lines.2.hours"] == [
        "mae oriau Amina Khan ar 2026-11-16 yn dod i fwy na 24"
    ]
    assert welsh["detail"] == "mae 2 maes yn annilys"
    assert english["errors"]["lines.2.hours"] == [
        "Amina Khan's hours on 2026-11-16 add up to more than 24"
    ]
    assert english["errors"]["lines.0.worked_on"][0].startswith("must be within the agreement (")
    assert english["detail"] == "2 fields are invalid"


def test_the_domain_imports_no_framework() -> None:
    """The domain marks its messages with shared.messages.N_ (standard library only): importing
    every domain module pulls in no web framework, no Babel and no database layer."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys\n"
        "import services.ledger.domain as d\n"
        "for m in pkgutil.iter_modules(d.__path__):\n"
        "    importlib.import_module('services.ledger.domain.' + m.name)\n"
        "bad = {'flask', 'flask_babel', 'babel', 'sqlalchemy', 'werkzeug', 'jinja2'}\n"
        "print(sorted(bad & {name.split('.')[0] for name in sys.modules}))\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
