"""E-invoices from approved claims: the UBL is valid against the UBL 2.1 XSD and has no fatal
finding of the official EN 16931 and Peppol BIS Billing 3.0 rules, whatever the claim (one or a
month's, partly approved, part paid, an issuer with or without a VAT number); the PDF says the
same; numbers are sequential; amounts are the claims' positions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader

from services.ledger.domain.errors import ValidationFailed
from services.ledger.domain.invoice import invoice_document, issue_invoice, read_month
from services.ledger.domain.organisation import Organisation
from services.ledger.invoices.pdf import invoice_pdf
from services.ledger.invoices.ubl import invoice_xml
from shared.i18n import use_language
from tests.support.einvoice import Validator
from tests.unit.builders import ClaimStory, expense, line

ISSUER = Organisation(
    "hope",
    "Hope Street Community Trust",
    "vcse",
    charity_number="1234567",
    contact_email="accounts@hope.example",
    peppol_id="0088:5012345000008",
)
PAYER = Organisation(
    "icb", "North ICB", "statutory", contact_email="ap@icb.example", peppol_id="0088:5098765000002"
)
ON = date(2026, 4, 20)


def _issue(stories: list[ClaimStory], issuer: Organisation = ISSUER, **kw: Any) -> Any:
    claims = [story.claim for story in stories]
    event = issue_invoice(
        "inv1",
        issuer=issuer,
        payer=PAYER,
        claims=claims,
        issued_invoices=0,
        by="amina",
        today=kw.pop("today", ON),
        **kw,
    )
    return event, invoice_document(event, issuer, PAYER, claims)


def _valid(validator: Validator, document: Any) -> bytes:
    xml = invoice_xml(document)
    assert validator.fatal(xml) == []
    return xml


def test_one_approved_claim_is_a_valid_peppol_invoice(einvoice_validator: Validator) -> None:
    story = ClaimStory(
        lines=[line(), line(hours="7", worked_on="2026-03-03")], expenses=[expense()]
    ).approved()
    event, document = _issue([story])
    xml = _valid(einvoice_validator, document)
    assert event.number == "BRG-00001" and event.sequence == 1
    assert event.total_pence == story.claim.approved_pence == 5000 + 15000 + 1240
    text = xml.decode()
    assert "urn:fdc:peppol.eu:2017:poacc:billing:3.0" in text
    assert '<cbc:PayableAmount currencyID="GBP">212.40</cbc:PayableAmount>' in text
    assert "<cbc:ID>O</cbc:ID>" in text and "VATEX-EU-O" in text
    assert 'schemeID="0088">5012345000008<' in text


def test_a_partial_approval_is_an_allowance_with_the_reason(einvoice_validator: Validator) -> None:
    story = ClaimStory(lines=[line(), line(hours="3")]).approved(amount=9000)
    event, document = _issue([story])
    xml = _valid(einvoice_validator, document).decode()
    assert event.total_pence == 9000
    assert '<cbc:AllowanceTotalAmount currencyID="GBP">35.00</cbc:AllowanceTotalAmount>' in xml
    assert "partly outside scope" in xml


def test_a_part_paid_claim_shows_what_was_paid(einvoice_validator: Validator) -> None:
    story = ClaimStory().approved()
    story.paid(2000, date(2026, 4, 10))
    event, document = _issue([story])
    xml = _valid(einvoice_validator, document).decode()
    assert (event.total_pence, event.paid_pence) == (5000, 2000)
    assert '<cbc:PrepaidAmount currencyID="GBP">20.00</cbc:PrepaidAmount>' in xml
    assert '<cbc:PayableAmount currencyID="GBP">30.00</cbc:PayableAmount>' in xml


def test_a_paid_claim_has_nothing_to_pay_and_no_due_date(einvoice_validator: Validator) -> None:
    story = ClaimStory().approved()
    story.paid(5000, date(2026, 4, 10))
    _, document = _issue([story])
    xml = _valid(einvoice_validator, document).decode()
    assert '<cbc:PayableAmount currencyID="GBP">0.00</cbc:PayableAmount>' in xml
    assert "DueDate" not in xml


def test_a_vat_registered_issuer_shows_an_exempt_supply(einvoice_validator: Validator) -> None:
    registered = Organisation("hope", "Hope Street", "vcse", None, "12345678", None, "GB123456789")
    assert registered.peppol_id is None
    _, document = _issue([ClaimStory().approved()], issuer=registered)
    xml = _valid(einvoice_validator, document).decode()
    assert "<cbc:ID>E</cbc:ID>" in xml and 'schemeID="9932">GB123456789<' in xml


def test_a_month_of_claims_is_one_invoice(einvoice_validator: Validator) -> None:
    stories = [
        ClaimStory("c1").approved(on=date(2026, 4, 3)),
        ClaimStory("c2", lines=[line(), line(hours="4")]).approved(
            on=date(2026, 4, 9), amount=6000
        ),
    ]
    period, _, _ = read_month("2026-04")
    event, document = _issue(stories, period=period)
    xml = _valid(einvoice_validator, document).decode()
    assert event.claim_ids == ("c1", "c2") and event.total_pence == 5000 + 6000
    assert "<cbc:StartDate>2026-03-02</cbc:StartDate><cbc:EndDate>2026-03-02</cbc:EndDate>" in xml
    assert "The claims approved in April 2026" in xml


def test_the_validator_catches_a_broken_invoice(einvoice_validator: Validator) -> None:
    """The rules really run: an invoice whose total disagrees with its lines fails them."""
    _, document = _issue([ClaimStory().approved()])
    total = b'<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="GBP">50.00<'
    xml = invoice_xml(document)
    assert total in xml
    xml = xml.replace(total, total.replace(b"50.00", b"51.00"))
    assert any("BR-CO-10" in problem for problem in einvoice_validator.fatal(xml))
    misplaced = xml.replace(b"<cbc:ID>BRG-00001</cbc:ID>", b"").replace(
        b"<cbc:DocumentCurrencyCode>", b"<cbc:ID>BRG-00001</cbc:ID><cbc:DocumentCurrencyCode>"
    )
    assert einvoice_validator.schema_errors(misplaced) != []


def test_only_approved_claims_are_invoiced() -> None:
    with pytest.raises(ValidationFailed):
        _issue([ClaimStory()])


def test_an_organisation_with_no_electronic_address_is_refused() -> None:
    nowhere = Organisation("hope", "Hope Street", "vcse")
    with pytest.raises(ValidationFailed, match="no Peppol participant id"):
        _issue([ClaimStory().approved()], issuer=nowhere)


def test_the_pdf_shows_the_invoice() -> None:
    story = ClaimStory(expenses=[expense()]).approved()
    _, document = _issue([story])
    pdf = invoice_pdf(document)
    assert pdf == invoice_pdf(document)
    text = "".join(page.extract_text() for page in PdfReader(__import__("io").BytesIO(pdf)).pages)
    for shown in (
        "Invoice",
        "BRG-00001",
        "Hope Street Community Trust",
        "North ICB",
        "£62.40",
        "Not subject to VAT",
        "Bus fares",
        "Page 1 of 1",
    ):
        assert shown in text


def test_the_pdf_in_welsh_has_welsh_words_and_every_welsh_letter() -> None:
    issuer = Organisation(
        "hope",
        "Tŷ Gŵyr Community Trust",
        "vcse",
        charity_number="1234567",
        contact_email="accounts@ty.example",
        peppol_id="0088:5012345000008",
    )
    story = ClaimStory(expenses=[expense()]).approved()
    _, document = _issue([story], issuer=issuer)
    english_xml = invoice_xml(document)
    with use_language("cy"):
        pdf = invoice_pdf(document)
        welsh_xml = invoice_xml(document)
    reader = PdfReader(__import__("io").BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    for shown in (
        "Anfoneb",
        "Rhif yr anfoneb",
        "Swm i’w dalu",
        "Oddi wrth (cyflenwr)",
        "Ni chodir TAW",
        "Tudalen 1 o 1",
        "Tŷ Gŵyr Community Trust",  # ŷ and ŵ exactly, not y and w
    ):
        assert shown in text
    assert "Amount to pay" not in text
    assert reader.metadata["/Title"] == "Anfoneb BRG-00001 - Tŷ Gŵyr Community Trust"
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
        if "/FontDescriptor" in font.get_object()
        and "/FontFile2" in font.get_object()["/FontDescriptor"].get_object()
    }
    assert {name.split("+")[-1] for name in fonts} == {"DejaVuSans", "DejaVuSans-Bold"}
    assert welsh_xml == english_xml  # the e-invoice itself is the standard's, in any language


def test_identifiers_are_checked_and_normalised() -> None:
    from services.ledger.domain.organisation import record_identifiers

    recorded = record_identifiers(
        ISSUER, "1234567", "sc123456", "123 4567 89", " 0088 : 5012345000008 "
    )
    assert (recorded.company_number, recorded.vat_number, recorded.peppol_id) == (
        "SC123456",
        "GB123456789",
        "0088:5012345000008",
    )
    assert record_identifiers(ISSUER).peppol_id is None  # none: cleared
    for peppol_id, message in (
        ("0088:5012345000001", "check digit"),
        ("EM:accounts@hope.example", "scheme:identifier"),
        ("0060:12345", "scheme:identifier"),
    ):
        with pytest.raises(ValidationFailed, match=message):
            record_identifiers(ISSUER, peppol_id=peppol_id)
    with pytest.raises(ValidationFailed, match="UK VAT number"):
        record_identifiers(ISSUER, vat_number="GB12")


def test_months_are_read_strictly() -> None:
    assert read_month("2028-02")[1:] == (date(2028, 2, 1), date(2028, 2, 29))
    assert read_month("2026-12")[2] == date(2026, 12, 31)
    for bad in ("2026-13", "2026-1", "26-01", None, "2026-01-01"):
        with pytest.raises(ValidationFailed):
            read_month(bad)
