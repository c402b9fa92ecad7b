"""The whole journey in headless Chromium: a VCSE member claims, the approver queries, the
member answers, the approver approves part, finance pays part, and the member's balance
statement shows what is still owed. Every page in every state reached is checked with
axe-core and screenshotted; sign-in, the claim form and the approval are done with the
keyboard only. The whole journey runs in English and in Welsh: the member chooses Cymraeg
with the switch on the sign-in page, everyone else's browser asks for it (Accept-Language)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.support.receipts import jpeg_with_gps

from .conftest import PASSWORD, Site, serve_site, sign_in
from .helpers import (
    PageChecks,
    choose_option,
    money_text,
    press_button,
    tab_to,
    type_into,
)

# What the journey reads and clicks, in each language (the Welsh catalogue's own words).
WORDS = {
    "en": {
        "wrong_password": "Enter a correct email address and password",
        "quarter_hours": "Line 1 hours must be in quarter-hour steps",
        "co_design": "Co-design",
        "meeting": "Meeting",
        "travel": "Travel",
        "submitted_for": "submitted for £142.40",
        "approvals": "Approvals",
        "to_decide": "1 claim to decide",
        "approval_due": "23 November 2026\ndue in 7 days",
        "ask": "Ask a question",
        "send_question": "Send question",
        "enter_question": "Enter your question",
        "queried": "Queried",
        "answer": "Answer the question",
        "send_answer": "Send answer",
        "submitted": "Submitted",
        "reason_required": "A reason is required for a partial approval",
        "record_payment": "Record payment",
        "exceeds": "amount exceeds the claim's outstanding £100.00",
        "payment_of": "Payment of £60.00",
        "approved_in_part": "Approved in part",
        "claims": "Claims",
        "payment_due": "18 December 2026",
        "due_in_30": "due in 30 days",
        "balances": "Balances",
        "aging": "Aging",
    },
    "cy": {
        "wrong_password": "Rhowch gyfeiriad e-bost a chyfrinair cywir",
        "quarter_hours": "Llinell 1, oriau: rhaid i'r oriau fod mewn chwarteri awr",
        "co_design": "Cyd-ddylunio",
        "meeting": "Cyfarfod",
        "travel": "Teithio",
        "submitted_for": "am £142.40",
        "approvals": "Cymeradwyo",
        "to_decide": "1 hawliad i benderfynu arno",
        "approval_due": "23 Tachwedd 2026\nyn ddyledus ymhen 7 diwrnod",
        "ask": "Gofyn cwestiwn",
        "send_question": "Anfon cwestiwn",
        "enter_question": "Rhowch eich cwestiwn",
        "queried": "Holwyd",
        "answer": "Ateb y cwestiwn",
        "send_answer": "Anfon ateb",
        "submitted": "Cyflwynwyd",
        "reason_required": "Mae angen rheswm dros gymeradwyo'n rhannol",
        "record_payment": "Cofnodi'r taliad",
        "exceeds": "mae'r swm yn fwy na'r £100.00 sy'n dal yn ddyledus ar yr hawliad",
        "payment_of": "taliad o £60.00",
        "approved_in_part": "Cymeradwywyd yn rhannol",
        "claims": "Hawliadau",
        "payment_due": "18 Rhagfyr 2026",
        "due_in_30": "yn ddyledus ymhen 30 diwrnod",
        "balances": "Balansau",
        "aging": "Oed",
    },
}
LOCALES = {"en": "en-GB", "cy": "cy-GB"}


@pytest.fixture
def site(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh site for each language's journey (it moves the clock and counts claims)."""
    with serve_site(_sqlite_template, tmp_path_factory) as served:
        yield served


def keyboard_sign_in(
    page: Page, site: Site, email: str, checks: PageChecks, lang: str, words: dict[str, str]
) -> None:
    page.goto(site.url("/"))
    assert page.url == site.url("/sign-in")
    assert page.get_attribute("html", "lang") == "en"
    checks.check(page, "sign-in")
    if lang != "en":  # the switch: "Cymraeg", a link to this page in Welsh
        with page.expect_navigation():
            page.click(f"nav.bridges-language-select a[lang={lang}]")
        assert page.get_attribute("html", "lang") == lang
        checks.check(page, f"sign-in-{lang}")
    # A wrong password first: the error summary, the email kept.
    type_into(page, "#email", email)
    type_into(page, "#password", "not-the-password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert words["wrong_password"] in page.inner_text(".govuk-error-summary")
    assert page.input_value("#email") == email
    checks.check(page, "sign-in-error")
    type_into(page, "#password", PASSWORD)
    press_button(page, "main .govuk-button:not(.govuk-password-input__toggle)")
    assert page.url == site.url("/")


def fill_line(page: Page, row: int, day: str, hours: str, activity: str, what: str) -> None:
    prefix = f"#lines-{row}"
    type_into(page, f"{prefix}-worked_on-day", day)
    type_into(page, f"{prefix}-worked_on-month", "11")
    type_into(page, f"{prefix}-worked_on-year", "2026")
    type_into(page, f"{prefix}-hours", hours)
    choose_option(page, f"{prefix}-activity", activity)
    type_into(page, f"{prefix}-worker", "Amina Khan")
    type_into(page, f"{prefix}-description", what)


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_claim_to_payment_journey(
    site: Site, new_context: Callable[..., BrowserContext], lang: str
) -> None:
    words = WORDS[lang]
    checks = PageChecks("journey" if lang == "en" else f"journey-{lang}")
    member = new_context().new_page()
    approver = new_context(locale=LOCALES[lang]).new_page()
    finance = new_context(locale=LOCALES[lang]).new_page()

    # 1. The VCSE member signs in with the keyboard and claims two lines and a bus fare.
    keyboard_sign_in(member, site, site.email("vcse_member"), checks, lang, words)
    assert member.get_attribute("html", "lang") == lang  # remembered after signing in
    checks.check(member, "home-member")
    member.goto(site.url("/claims/new"))
    checks.check(member, "claim-form")

    fill_line(member, 0, "10", "3.3", words["co_design"], "Co-design workshop, diabetes pathway")
    press_button(member, "button.govuk-button[value=check]:not(.govuk-visually-hidden)")
    summary = member.inner_text(".govuk-error-summary")
    assert words["quarter_hours"] in summary, summary
    assert member.input_value("#lines-0-worker") == "Amina Khan"  # input kept
    assert member.input_value("#lines-0-hours") == "3.3"
    checks.check(member, "claim-form-errors")

    type_into(member, "#lines-0-hours", "3.5")
    press_button(member, "button[value=add_line]")
    fill_line(member, 1, "11", "2", words["meeting"], "Programme board")
    choose_option(member, "#expenses-0-category", words["travel"])
    type_into(member, "#expenses-0-amount", "12.40")
    type_into(member, "#expenses-0-description", "Bus fares")
    # The ticket's photo (GPS in its EXIF, which Bridges strips) goes with the bus fare.
    ticket = {"name": "ticket.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}
    member.set_input_files("#expenses-0-receipt", ticket)
    press_button(member, "button.govuk-button[value=check]:not(.govuk-visually-hidden)")

    # The check-your-answers page prices the lines before anything is saved.
    assert member.url == site.url("/claims/new")
    assert "Receipt 1 for Bus fares (JPEG image" in member.inner_text("main")
    assert money_text(member, "#claim-total") == "£142.40"
    assert "£80.00" in member.inner_text("main")  # 3.5 hours: the half-day rate
    assert "£50.00" in member.inner_text("main")  # 2 hours at £25.00
    before = site.ledger.store.last_position()
    checks.check(member, "check-answers")
    assert site.ledger.store.last_position() == before  # nothing saved yet
    press_button(member, "button[value=submit]")
    assert "/claims/" in member.url
    claim_url = member.url
    assert words["submitted_for"] in member.inner_text(".govuk-notification-banner")
    checks.check(member, "claim-submitted")

    # 2. The approver finds it in the queue and asks a question.
    sign_in(approver, site, site.email("approver"))
    checks.check(approver, "home-approver")
    assert approver.get_attribute("html", "lang") == lang  # from Accept-Language
    with approver.expect_navigation():
        approver.click(f"nav >> text={words['approvals']}")
    assert words["to_decide"] in approver.inner_text("main")
    # 5 working days from Monday 16 November: Monday 23 November.
    assert words["approval_due"] in approver.inner_text("main")
    checks.check(approver, "approvals-queue")
    approver.click("table a.govuk-link")
    assert approver.url == claim_url
    # The receipt beside its line: the thumbnail loads under the page's CSP.
    thumbnail = approver.locator("img.bridges-receipt-thumbnail")
    thumbnail.wait_for()
    # Until it has loaded (a loaded machine may still be fetching it); a broken image never is.
    approver.wait_for_function(
        "() => { const image = document.querySelector('img.bridges-receipt-thumbnail');"
        " return image.complete && image.naturalWidth > 0; }",
        timeout=30_000,
    )
    assert thumbnail.evaluate("image => image.complete && image.naturalWidth > 0")
    checks.check(approver, "claim-for-approver")
    approver.click(f"text={words['ask']}")
    checks.check(approver, "query-form")
    approver.click(f"button:has-text('{words['send_question']}')")
    assert words["enter_question"] in approver.inner_text(".govuk-error-summary")
    checks.check(approver, "query-form-errors")
    approver.fill("#question", "Which ward was the co-design workshop for?")
    approver.click(f"button:has-text('{words['send_question']}')")
    assert words["queried"] in approver.inner_text("h1")
    checks.check(approver, "claim-queried")

    # 3. Two days later the member answers.
    site.clock.advance(2)
    member.goto(claim_url)
    assert "Which ward was the co-design workshop for?" in member.inner_text("main")
    checks.check(member, "claim-with-question")
    member.click(f"text={words['answer']}")
    checks.check(member, "answer-form")
    member.fill("#answer", "Ward 7, the discharge lounge")
    member.click(f"button:has-text('{words['send_answer']}')")
    assert words["submitted"] in member.inner_text("h1")
    checks.check(member, "claim-answered")

    # 4. The approver approves part of it, with the keyboard only; a reason is required.
    approver.goto(claim_url + "/approve")
    checks.check(approver, "approve-form")
    tab_to(approver, "input[name=how]")
    approver.keyboard.press("ArrowDown")  # "Part of it", revealing the amount and reason
    assert approver.is_checked("input[name=how][value=part]")
    type_into(approver, "#amount", "100.00")
    press_button(approver, "main form button.govuk-button")
    assert words["reason_required"] in approver.inner_text(".govuk-error-summary")
    assert approver.input_value("#amount") == "100.00"
    checks.check(approver, "approve-form-errors")
    type_into(approver, "#reason", "Bus fares were not receipted; the board is paid at £20.")
    press_button(approver, "main form button.govuk-button")
    assert approver.url == claim_url
    assert money_text(approver, "#approved") == "£100.00"
    checks.check(approver, "claim-approved")

    # 5. Finance pays £60 of it.
    sign_in(finance, site, site.email("finance"))
    finance.goto(site.url("/payments/new"))
    checks.check(finance, "payment-form")
    finance.fill("#reference", "BACS 4471")
    finance.fill("#allocations-0-amount", "600.00")
    finance.click(f'button:has-text("{words["record_payment"]}")')
    assert words["exceeds"] in finance.inner_text(".govuk-error-summary")
    checks.check(finance, "payment-form-errors")
    finance.fill("#allocations-0-amount", "60.00")
    finance.click(f'button:has-text("{words["record_payment"]}")')
    assert finance.url == site.url("/payments")
    assert words["payment_of"] in finance.inner_text(".govuk-notification-banner")
    checks.check(finance, "payments")

    # 6. The member's claim and balance statement show what is still owed.
    member.goto(claim_url)
    assert money_text(member, "#outstanding") == "£40.00"
    assert words["approved_in_part"] in member.inner_text("main")
    checks.check(member, "claim-part-paid")

    # 6a. The member creates the claim's e-invoice, once both organisations have Peppol ids.
    world = site.world
    for organisation_id, gln in (
        (world.a.payee_id, "0088:5012345000008"),
        (world.a.payer_id, "0088:5098765000002"),
    ):
        world.api.ok(
            "PATCH", f"/organisations/{organisation_id}", world.operator_token, {"peppol_id": gln}
        )
    member.reload()
    with member.expect_navigation():
        member.click("form[action$='/invoice'] button")  # in either language
    assert "BRG-00001" in member.inner_text(".govuk-notification-banner")
    assert member.get_attribute("[data-download=ubl]", "href").endswith("/ubl")
    checks.check(member, "claim-e-invoice")
    member.goto(site.url(f"/statements?agreement={world.a.agreement_id}#e-invoices"))
    assert "BRG-00001" in member.inner_text("[data-e-invoices]")
    checks.check(member, "statement-e-invoices")
    with member.expect_navigation():  # wait for the new page, not the old one
        member.click(f"nav >> text={words['claims']}")
    # Received 16 November, 30 days' terms, plus the 2 days it spent queried: 18 December.
    assert words["payment_due"] in member.inner_text("table")
    assert words["due_in_30"] in member.inner_text("table")
    checks.check(member, "claims-list")
    with member.expect_navigation():  # wait for the new page, not the old one
        member.click(f"nav >> text={words['balances']}")
    figures = {
        name: money_text(member, f"[data-figure={name}]")
        for name in ("claimed", "approved", "paid", "outstanding", "awaiting", "overdue")
    }
    assert figures == {
        "claimed": "£142.40",
        "approved": "£100.00",
        "paid": "£60.00",
        "outstanding": "£40.00",
        "awaiting": "£0.00",
        "overdue": "£0.00",
    }
    assert money_text(member, "[data-bucket=not_due]") == "£40.00"
    checks.check(member, "balance-statement")

    # As at a later date the £40 is 33 days overdue.
    type_into(member, "#as_at-day", "20")
    type_into(member, "#as_at-month", "1")
    type_into(member, "#as_at-year", "2027")
    press_button(member, "main form button.govuk-button")
    assert money_text(member, "[data-figure=overdue]") == "£40.00"
    assert money_text(member, "[data-bucket='31-60']") == "£40.00"
    checks.check(member, "balance-statement-later")

    # 7. The partner viewer sees the partnership's balances, with the aging chart.
    viewer = new_context(locale=LOCALES[lang]).new_page()
    sign_in(viewer, site, site.email("partner_viewer"))
    with viewer.expect_navigation():  # wait for the new page, not the old one
        viewer.click(f"nav >> text={words['balances']}")
    title = viewer.locator("svg[role=img] title").first.text_content() or ""
    assert title.startswith(words["aging"]), title
    checks.check(viewer, "partner-balances")

    assert len(checks.checked) >= 20
