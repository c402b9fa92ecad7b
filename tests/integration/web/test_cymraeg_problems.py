"""Problem documents (RFC 9457) follow Accept-Language: titles and details in Welsh or
English; the type URI (the machine's key) never changes."""

from __future__ import annotations

from datetime import date

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
