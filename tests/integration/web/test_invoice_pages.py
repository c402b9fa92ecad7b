"""E-invoices on the pages: the VCSE side creates an approved claim's e-invoice on the claim page
(once: a second press keeps the number) and a month's on the statement page; both sides
download the UBL and the PDF from the claim and statement pages; other tenants get 404 (BOLA)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.clock import MovableClock
from tests.support.einvoice import Validator
from tests.support.world import World


def _ready(world: World, clock: MovableClock) -> dict[str, Any]:
    a = world.a
    for organisation_id, gln in (
        (a.payee_id, "0088:5012345000008"),
        (a.payer_id, "0088:5098765000002"),
    ):
        world.api.ok(
            "PATCH", f"/organisations/{organisation_id}", world.operator_token, {"peppol_id": gln}
        )
    claim = world.submit(a, clock.today() - timedelta(days=2))
    return world.act(a, claim, "approve", "approver")


def test_the_claim_page_creates_and_downloads_the_e_invoice(
    world: World, clock: MovableClock, browser_for: Any, einvoice_validator: Validator
) -> None:
    claim = _ready(world, clock)
    page = f"/claims/{claim['id']}"
    member = browser_for("vcse_member")
    assert "Create the e-invoice" in member.text(page)
    approver = browser_for("approver")
    assert "E-invoice" not in approver.text(page)  # nothing to show the payer yet
    created = member.post(f"{page}/invoice", {}, form_page=page)
    assert created.status_code == 302
    shown = member.text(page)
    assert "E-invoice BRG-00001 was created" in shown and "data-invoice-number>BRG-00001<" in shown
    assert "Create the e-invoice" not in shown
    member.post(f"{page}/invoice", {}, form_page=page)  # pressed again: the same invoice
    invoice = world.api.ok("GET", f"/claims/{claim['id']}/invoice", world.a.tokens["approver"])
    assert invoice["number"] == "BRG-00001"
    for browser in (member, approver):
        text = browser.text(page)
        assert f"/invoices/{invoice['id']}/ubl" in text and f"/invoices/{invoice['id']}/pdf" in text
        xml = browser.client.get(f"/invoices/{invoice['id']}/ubl")
        assert xml.status_code == 200 and xml.mimetype == "application/xml"
        assert einvoice_validator.fatal(xml.data) == []
        assert browser.client.get(f"/invoices/{invoice['id']}/pdf").mimetype == "application/pdf"
    for role in ("vcse_member", "finance"):
        other = browser_for(role, "b")
        assert other.client.get(f"/invoices/{invoice['id']}/ubl").status_code == 404
        assert other.client.get(f"/invoices/{invoice['id']}/pdf").status_code == 404
    outsider = browser_for("vcse_member", "b")
    assert outsider.post(f"{page}/invoice", {}, form_page="/claims").status_code == 404


def test_the_statement_page_lists_and_creates_a_months_e_invoice(
    world: World, clock: MovableClock, browser_for: Any
) -> None:
    _ready(world, clock)
    a = world.a
    statement = f"/statements?agreement={a.agreement_id}"
    admin = browser_for("vcse_admin")
    assert "No e-invoices yet" in admin.text(statement)
    month = clock.today().strftime("%Y-%m")
    done = admin.post(
        "/statements/invoice", {"agreement": a.agreement_id, "month": month}, form_page=statement
    )
    assert done.status_code == 302
    page = admin.text(statement)
    assert "E-invoice BRG-00001 was created" in page and 'data-invoice="BRG-00001"' in page
    finance = browser_for("finance")
    payer_page = finance.text(statement)
    assert 'data-invoice="BRG-00001"' in payer_page
    assert "Create the month" not in payer_page  # the payer does not issue the supplier's invoice
    assert (
        finance.post(
            "/statements/invoice",
            {"agreement": a.agreement_id, "month": month},
            form_page=statement,
        ).status_code
        == 404
    )
    other = browser_for("vcse_admin", "b")
    assert (
        other.post(
            "/statements/invoice",
            {"agreement": a.agreement_id, "month": month},
            form_page="/statements",
        ).status_code
        == 404
    )
    nothing = admin.post(
        "/statements/invoice",
        {"agreement": a.agreement_id, "month": "2020-01"},
        form_page=statement,
    )
    assert nothing.status_code == 302
    assert "no approved claims of yours to this payer" in admin.text(statement)
