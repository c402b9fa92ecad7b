"""E-invoices through the API: issued for an approved claim or a month's, once (same number on
a retry), sequential per issuer, downloadable as UBL (valid against the XSD and the EN 16931 and
Peppol rules) and as a PDF by the VCSE organisation and its payer only (BOLA), recorded as an
InvoiceIssued event; identifiers recorded through PATCH /organisations/{id}."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from pypdf import PdfReader

from tests.support.clock import MovableClock
from tests.support.einvoice import Validator
from tests.support.world import Tenant, World

GLN_PAYEE = "0088:5012345000008"
GLN_PAYER = "0088:5098765000002"


def _identify(world: World, tenant: Tenant) -> None:
    for organisation_id, peppol_id in ((tenant.payee_id, GLN_PAYEE), (tenant.payer_id, GLN_PAYER)):
        world.api.ok(
            "PATCH",
            f"/organisations/{organisation_id}",
            world.operator_token,
            {"peppol_id": peppol_id},
        )


def _approved(world: World, tenant: Tenant, clock: MovableClock) -> dict[str, Any]:
    claim = world.submit(tenant, clock.today() - timedelta(days=3))
    return world.act(tenant, claim, "approve", "approver")


def _invoice(world: World, tenant: Tenant, claim: dict[str, Any], role: str = "vcse_member") -> Any:
    return world.api.post(f"/claims/{claim['id']}/invoice", tenant.tokens[role], {})


def test_an_approved_claim_gets_one_valid_invoice(
    world: World, clock: MovableClock, einvoice_validator: Validator
) -> None:
    _identify(world, world.a)
    claim = _approved(world, world.a, clock)
    events_before = world.events_written()
    first = _invoice(world, world.a, claim)
    assert first.status_code == 200, first.get_json()
    invoice = first.get_json()
    assert invoice["number"] == "BRG-00001" and invoice["claim_ids"] == [claim["id"]]
    assert invoice["total_pence"] == claim["approved_pence"] == invoice["payable_pence"]
    assert world.events_written() == events_before + 1
    again = _invoice(world, world.a, claim).get_json()
    assert again == invoice and world.events_written() == events_before + 1

    ubl = world.api.get(invoice["links"]["ubl"].removeprefix("/api/v1"), world.a.tokens["finance"])
    assert ubl.status_code == 200 and ubl.mimetype == "application/xml"
    assert einvoice_validator.fatal(ubl.data) == []
    assert b"<cbc:ID>BRG-00001</cbc:ID>" in ubl.data
    assert 'filename="invoice-BRG-00001.xml"' in ubl.headers["Content-Disposition"]
    pdf = world.api.get(f"/invoices/{invoice['id']}/pdf", world.a.tokens["vcse_member"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "BRG-00001" in text and "Charity A" in text and "ICB A" in text
    found = world.api.ok("GET", f"/claims/{claim['id']}/invoice", world.a.tokens["approver"])
    assert found["id"] == invoice["id"]


def test_numbers_are_sequential_per_issuer(world: World, clock: MovableClock) -> None:
    _identify(world, world.a)
    _identify(world, world.b)
    numbers = [
        _invoice(world, world.a, _approved(world, world.a, clock)).get_json()["number"],
        _invoice(world, world.b, _approved(world, world.b, clock)).get_json()["number"],
        _invoice(world, world.a, _approved(world, world.a, clock)).get_json()["number"],
    ]
    assert numbers == ["BRG-00001", "BRG-00001", "BRG-00002"]


def test_a_months_claims_are_one_invoice_and_asking_again_answers_it(
    world: World, clock: MovableClock, einvoice_validator: Validator
) -> None:
    _identify(world, world.a)
    claims = [_approved(world, world.a, clock) for _ in range(2)]
    month = clock.today().strftime("%Y-%m")
    body = {"payer_id": world.a.payer_id, "month": month}
    issued = world.api.ok("POST", "/invoices", world.a.tokens["vcse_admin"], body)
    assert sorted(issued["claim_ids"]) == sorted(c["id"] for c in claims)
    assert issued["period"] == month and issued["total_pence"] == sum(
        c["approved_pence"] for c in claims
    )
    assert world.api.ok("POST", "/invoices", world.a.tokens["vcse_member"], body) == issued
    # A claim the month's invoice covers answers that invoice.
    assert _invoice(world, world.a, claims[0]).get_json()["id"] == issued["id"]
    ubl = world.api.get(f"/invoices/{issued['id']}/ubl", world.a.tokens["approver"])
    assert einvoice_validator.fatal(ubl.data) == []


def test_only_the_vcse_organisation_and_its_payer_see_an_invoice(
    world: World, clock: MovableClock
) -> None:
    _identify(world, world.a)
    claim = _approved(world, world.a, clock)
    invoice = _invoice(world, world.a, claim).get_json()
    paths = [
        f"/invoices/{invoice['id']}",
        f"/invoices/{invoice['id']}/ubl",
        f"/invoices/{invoice['id']}/pdf",
    ]
    for path in paths:
        for token in (
            world.b.tokens["vcse_member"],
            world.b.tokens["finance"],
            world.a.tokens["partner_viewer"],
            world.operator_token,
        ):
            response = world.api.get(path, token)
            assert response.status_code == 404, (path, response.status_code)
            assert response.mimetype == "application/problem+json"
        assert world.api.get(path, None).status_code == 401
    # Another tenant cannot invoice the claim, nor can the payer issue the supplier's invoice.
    assert _invoice(world, world.b, claim).status_code == 404
    assert _invoice(world, world.a, claim, role="finance").status_code == 403


def test_refusals_write_nothing(world: World, clock: MovableClock) -> None:
    claim = world.submit(world.a, clock.today() - timedelta(days=3))
    before = world.events_written()
    unapproved = _invoice(world, world.a, claim)
    assert unapproved.status_code == 422, unapproved.get_json()
    assert world.events_written() == before
    _identify(world, world.a)
    world.act(world.a, claim, "approve", "approver")
    before = world.events_written()
    bad_month = world.api.post(
        "/invoices", world.a.tokens["vcse_member"], {"payer_id": world.a.payer_id, "month": "26-1"}
    )
    assert bad_month.status_code == 422 and bad_month.mimetype == "application/problem+json"
    empty = world.api.post(
        "/invoices",
        world.a.tokens["vcse_member"],
        {"payer_id": world.a.payer_id, "month": "2020-01"},
    )
    assert empty.status_code == 422, empty.get_json()
    bad_id = world.api.call(
        "PATCH",
        f"/organisations/{world.a.payee_id}",
        world.a.tokens["vcse_admin"],
        json={"peppol_id": "0088:5012345000001"},
    )
    assert bad_id.status_code == 422 and "check digit" in str(bad_id.get_json())
    assert world.events_written() == before


def test_an_unaddressable_organisation_is_told_what_to_record(
    world: World, clock: MovableClock
) -> None:
    claim = _approved(world, world.a, clock)
    refused = _invoice(world, world.a, claim)
    assert refused.status_code == 422
    assert "Peppol participant id" in str(refused.get_json())


def test_two_requests_at_once_take_one_number(world: World, clock: MovableClock) -> None:
    """Writers take the store's lock, so two issues of one claim at once make one invoice."""
    from concurrent.futures import ThreadPoolExecutor

    _identify(world, world.a)
    claim = _approved(world, world.a, clock)
    before = world.events_written()
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: _invoice(world, world.a, claim).get_json(), range(2)))
    assert answers[0] == answers[1] and answers[0]["number"] == "BRG-00001"
    assert world.events_written() == before + 1


def test_hostile_input_is_refused_precisely_and_writes_nothing(world: World) -> None:
    before = world.events_written()
    token = world.a.tokens["vcse_admin"]
    for path in ("/invoices/%00/ubl", "/invoices/x%7F/pdf", "/invoices/" + "9" * 500):
        response = world.api.get(path, token)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    for body in (
        {"payer_id": world.a.payer_id, "month": "2026-11\u0000"},
        {"payer_id": world.a.payer_id, "month": "0000-01"},  # no year 0: was a 500
        {"payer_id": "x\u0085", "month": "2026-11"},
        {"payer_id": world.a.payer_id, "month": "2026-11", "extra": 1},
        {"month": "2026-11"},
    ):
        refused = world.api.post("/invoices", token, body)
        assert refused.status_code == 422, (body, refused.get_json())
        assert refused.mimetype == "application/problem+json"
        if body.get("month") == "0000-01":
            assert list(refused.get_json()["errors"]) == ["month"]
    for identifiers in ({"peppol_id": "0088:\u0000"}, {"vat_number": 12}, {"vat_number": "GB1"}):
        refused = world.api.call(
            "PATCH", f"/organisations/{world.a.payee_id}", token, json=identifiers
        )
        assert refused.status_code == 422, (identifiers, refused.get_json())
    assert world.events_written() == before


def test_a_month_for_another_tenants_payer_says_no_more_than_an_unknown_id(
    world: World, clock: MovableClock
) -> None:
    _identify(world, world.a)
    _approved(world, world.a, clock)
    month = clock.today().strftime("%Y-%m")
    token = world.a.tokens["vcse_member"]
    answers = [
        world.api.post("/invoices", token, {"payer_id": payer_id, "month": month}).get_json()
        for payer_id in (world.b.payer_id, "no-such-organisation", world.a.payee_id)
    ]
    assert all(answer["status"] == 422 for answer in answers)
    assert answers[0]["errors"] == answers[1]["errors"] == answers[2]["errors"]
