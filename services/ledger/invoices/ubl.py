"""An invoice as UBL 2.1 following Peppol BIS Billing 3.0 (EN 16931's Peppol CIUS).

Element order follows the UBL 2.1 Invoice schema; the comments name the EN 16931 business
terms (BT-n) and groups (BG-n). Only XML is built here (never parsed): the standard library's
ElementTree is enough. Amounts are pounds with two decimals, in pounds sterling.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from shared.money import Pence

from ..domain.invoice import TAX_REASONS, InvoiceDocument, electronic_address, read_month
from ..domain.organisation import Organisation

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CURRENCY = "GBP"
COMMERCIAL_INVOICE = "380"
ONE = "C62"  # UN/ECE rec. 20: one (a unit of service)

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
register_namespace("", INVOICE_NS)
register_namespace("cac", CAC)
register_namespace("cbc", CBC)

MEDIA_TYPE = "application/xml"


def _cac(parent: Element, name: str) -> Element:
    return SubElement(parent, f"{{{CAC}}}{name}")


def _cbc(parent: Element, name: str, text: str, **attributes: str) -> Element:
    element = SubElement(parent, f"{{{CBC}}}{name}", attributes)
    element.text = text
    return element


def _amount(parent: Element, name: str, pence: Pence) -> Element:
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return _cbc(parent, name, f"{sign}{pounds}.{rest:02d}", currencyID=CURRENCY)


def invoice_xml(document: InvoiceDocument) -> bytes:
    """The invoice as UBL 2.1 XML (UTF-8, with an XML declaration)."""
    event = document.event
    root = Element(f"{{{INVOICE_NS}}}Invoice")
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)  # BT-24
    _cbc(root, "ProfileID", PROFILE_ID)  # BT-23
    _cbc(root, "ID", event.number)  # BT-1
    _cbc(root, "IssueDate", event.issued_on.isoformat())  # BT-2
    if document.payable_pence > 0:
        _cbc(root, "DueDate", event.due_on.isoformat())  # BT-9
    _cbc(root, "InvoiceTypeCode", COMMERCIAL_INVOICE)  # BT-3
    _cbc(root, "Note", _note(document))  # BT-22
    _cbc(root, "DocumentCurrencyCode", CURRENCY)  # BT-5
    _cbc(root, "BuyerReference", document.buyer_reference)  # BT-10
    if document.period_start is not None and document.period_end is not None:
        period = _cac(root, "InvoicePeriod")  # BG-14
        _cbc(period, "StartDate", document.period_start.isoformat())
        _cbc(period, "EndDate", document.period_end.isoformat())
    for claim_id in event.claim_ids:  # BG-24: the claims the invoice is for
        reference = _cac(root, "AdditionalDocumentReference")
        _cbc(reference, "ID", claim_id)
        _cbc(reference, "DocumentDescription", "Bridges claim")
    supplier = _cac(root, "AccountingSupplierParty")
    _party(supplier, document.issuer, seller=True, category=document.tax_category)  # BG-4
    customer = _cac(root, "AccountingCustomerParty")
    _party(customer, document.payer, seller=False, category=document.tax_category)  # BG-7
    if document.payable_pence > 0:
        terms = _cac(root, "PaymentTerms")  # BT-20
        _cbc(terms, "Note", f"Payment due by {event.due_on:%d %B %Y}, under the agreement")
    for allowance in document.allowances:  # BG-20
        charge = _cac(root, "AllowanceCharge")
        _cbc(charge, "ChargeIndicator", "false")
        _cbc(charge, "AllowanceChargeReason", allowance.reason)  # BT-97
        _amount(charge, "Amount", allowance.amount_pence)  # BT-92
        _tax_category(charge, document.tax_category)  # BT-95
    tax_total = _cac(root, "TaxTotal")
    _amount(tax_total, "TaxAmount", 0)  # BT-110
    subtotal = _cac(tax_total, "TaxSubtotal")  # BG-23
    _amount(subtotal, "TaxableAmount", document.total_pence)  # BT-116
    _amount(subtotal, "TaxAmount", 0)  # BT-117
    _tax_category(subtotal, document.tax_category, with_reason=True)
    totals = _cac(root, "LegalMonetaryTotal")  # BG-22
    _amount(totals, "LineExtensionAmount", document.line_total_pence)  # BT-106
    _amount(totals, "TaxExclusiveAmount", document.total_pence)  # BT-109
    _amount(totals, "TaxInclusiveAmount", document.total_pence)  # BT-112
    if document.allowances:
        _amount(totals, "AllowanceTotalAmount", document.allowance_total_pence)  # BT-107
    if event.paid_pence:
        _amount(totals, "PrepaidAmount", event.paid_pence)  # BT-113
    _amount(totals, "PayableAmount", document.payable_pence)  # BT-115
    for number, line in enumerate(document.lines, start=1):  # BG-25
        element = _cac(root, "InvoiceLine")
        _cbc(element, "ID", str(number))  # BT-126
        _cbc(element, "Note", line.note[:1000])  # BT-127
        _cbc(element, "InvoicedQuantity", "1", unitCode=ONE)  # BT-129, BT-130
        _amount(element, "LineExtensionAmount", line.amount_pence)  # BT-131
        if line.on is not None:
            period = _cac(element, "InvoicePeriod")  # BG-26: the day worked
            _cbc(period, "StartDate", line.on.isoformat())
            _cbc(period, "EndDate", line.on.isoformat())
        item = _cac(element, "Item")
        _cbc(item, "Name", line.name[:200])  # BT-153
        _tax_category(item, document.tax_category, classified=True)  # BG-30
        price = _cac(element, "Price")
        _amount(price, "PriceAmount", line.amount_pence)  # BT-146
    return bytes(tostring(root, encoding="UTF-8", xml_declaration=True))


def _note(document: InvoiceDocument) -> str:
    if document.event.period is not None:
        _, first, _ = read_month(document.event.period)
        return f"The claims approved in {first:%B %Y}, invoiced through Bridges"
    return "An approved claim, invoiced through Bridges"


def _party(parent: Element, organisation: Organisation, *, seller: bool, category: str) -> None:
    party = _cac(parent, "Party")
    address = electronic_address(organisation)
    assert address is not None  # issue_invoice refuses an organisation without one
    scheme, endpoint = address
    _cbc(party, "EndpointID", endpoint, schemeID=scheme)  # BT-34 / BT-49
    for identifier in (organisation.charity_number, organisation.company_number):
        if identifier:  # BT-29 / BT-46: the charity or Companies House number
            identification = _cac(party, "PartyIdentification")
            _cbc(identification, "ID", identifier)
    name = _cac(party, "PartyName")
    _cbc(name, "Name", organisation.name)  # BT-28 / BT-45
    postal = _cac(party, "PostalAddress")  # BG-5 / BG-8
    country = _cac(postal, "Country")
    _cbc(country, "IdentificationCode", "GB")  # BT-40 / BT-55
    # A seller's VAT number (BT-31) only where the supply is exempt: an invoice outside the
    # scope of VAT must carry none (BR-O-2); a buyer's is never needed here (BR-O-2, BR-E).
    if seller and organisation.vat_number and category != "O":
        tax_scheme = _cac(party, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", organisation.vat_number)
        scheme_element = _cac(tax_scheme, "TaxScheme")
        _cbc(scheme_element, "ID", "VAT")
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", organisation.name)  # BT-27 / BT-44
    registered = organisation.company_number or organisation.charity_number
    if registered:
        _cbc(legal, "CompanyID", registered)  # BT-30 / BT-47
    if organisation.contact_email:
        contact = _cac(party, "Contact")  # BG-6 / BG-9
        _cbc(contact, "ElectronicMail", organisation.contact_email)


def _tax_category(
    parent: Element, category: str, *, with_reason: bool = False, classified: bool = False
) -> None:
    element = _cac(parent, "ClassifiedTaxCategory" if classified else "TaxCategory")
    _cbc(element, "ID", category)
    if category != "O":  # "not subject to VAT" has no rate (BR-O-5, BR-O-9)
        _cbc(element, "Percent", "0")
    if with_reason:
        code, text = TAX_REASONS[category]
        if code is not None:
            _cbc(element, "TaxExemptionReasonCode", code)  # BT-121
        _cbc(element, "TaxExemptionReason", text)  # BT-120
    scheme = _cac(element, "TaxScheme")
    _cbc(scheme, "ID", "VAT")
