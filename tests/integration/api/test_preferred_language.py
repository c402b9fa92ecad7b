"""An organisation's and a person's preferred language (cy or en) for emails and statements:
set through the API, recorded as a PreferredLanguageChosen event, refused precisely."""

from __future__ import annotations

from sqlalchemy import select

from services.ledger.store.tables import events
from tests.support.world import ApiClient, World


def _language_events(world: World) -> list[dict[str, object]]:
    with world.ledger.store.engine.connect() as connection:
        rows = connection.execute(
            select(events.c.data).where(events.c.type == "PreferredLanguageChosen")
        )
        return [dict(row.data) for row in rows]


def test_the_vcse_admin_chooses_welsh_for_the_organisation(api: ApiClient, world: World) -> None:
    tenant = world.a
    response = api.call(
        "PUT",
        f"/organisations/{tenant.payee_id}/language",
        tenant.tokens["vcse_admin"],
        json={"language": "cy"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "organisation_id": tenant.payee_id,
        "person_id": None,
        "language": "cy",
    }
    assert _language_events(world) == [
        {"organisation_id": tenant.payee_id, "person_id": None, "language": "cy"}
    ]
    # Finance chooses for the payer; and again later (the latest choice wins downstream).
    for language in ("cy", "en"):
        again = api.call(
            "PUT",
            f"/organisations/{tenant.payer_id}/language",
            tenant.tokens["finance"],
            json={"language": language},
        )
        assert again.status_code == 200, again.get_json()
    assert [e["language"] for e in _language_events(world)] == ["cy", "cy", "en"]


def test_a_person_chooses_their_own_language(api: ApiClient, world: World) -> None:
    tenant = world.a
    member = tenant.person_ids["vcse_member"]
    path = f"/organisations/{tenant.payee_id}/people/{member}/language"
    response = api.call("PUT", path, tenant.tokens["vcse_member"], json={"language": "cy"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["person_id"] == member
    # The organisation's VCSE admin may set it too; another member may not.
    assert (
        api.call("PUT", path, tenant.tokens["vcse_admin"], json={"language": "en"}).status_code
        == 200
    )
    admin = tenant.person_ids["vcse_admin"]
    other = f"/organisations/{tenant.payee_id}/people/{admin}/language"
    refused = api.call("PUT", other, tenant.tokens["vcse_member"], json={"language": "cy"})
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/forbidden")


def test_hostile_or_wrong_choices_are_refused_and_write_nothing(
    api: ApiClient, world: World
) -> None:
    tenant = world.a
    path = f"/organisations/{tenant.payee_id}/language"
    token = tenant.tokens["vcse_admin"]
    for body in ({"language": "fr"}, {"language": ""}, {}, {"language": "cy", "x": 1}, []):
        response = api.call("PUT", path, token, json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.mimetype == "application/problem+json"
    # Another tenant's organisation is not found; a member may not choose the organisation's.
    other = api.call(
        "PUT", f"/organisations/{world.b.payee_id}/language", token, json={"language": "cy"}
    )
    assert other.status_code == 404
    member = api.call("PUT", path, tenant.tokens["vcse_member"], json={"language": "cy"})
    assert member.status_code == 403
    unknown = api.call(
        "PUT",
        f"/organisations/{tenant.payee_id}/people/00000000-0000-0000-0000-000000000000/language",
        token,
        json={"language": "cy"},
    )
    assert unknown.status_code == 404
    assert _language_events(world) == []
