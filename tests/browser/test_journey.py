"""The whole journey in headless Chromium: a VCSE member claims, the approver queries, the
member answers, the approver approves part, finance pays part, and the member's balance
statement shows what is still owed. Every page in every state reached is checked with
axe-core and screenshotted; sign-in, the claim form and the approval are done with the
keyboard only."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page

from tests.support.receipts import jpeg_with_gps

from .conftest import PASSWORD, Site, sign_in
from .helpers import (
    PageChecks,
    choose_option,
    money_text,
    press_button,
    tab_to,
    type_into,
)


def keyboard_sign_in(page: Page, site: Site, email: str, checks: PageChecks) -> None:
    page.goto(site.url("/"))
    assert page.url == site.url("/sign-in")
    checks.check(page, "sign-in")
    # A wrong password first: the error summary, the email kept.
    type_into(page, "#email", email)
    type_into(page, "#password", "not-the-password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Enter a correct email address and password" in page.inner_text(".govuk-error-summary")
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


def test_claim_to_payment_journey(site: Site, new_context: Callable[..., BrowserContext]) -> None:
    checks = PageChecks("journey")
    member = new_context().new_page()
    approver = new_context().new_page()
    finance = new_context().new_page()

    # 1. The VCSE member signs in with the keyboard and claims two lines and a bus fare.
    keyboard_sign_in(member, site, site.email("vcse_member"), checks)
    checks.check(member, "home-member")
    member.goto(site.url("/claims/new"))
    checks.check(member, "claim-form")

    fill_line(member, 0, "10", "3.3", "Co-design", "Co-design workshop, diabetes pathway")
    press_button(member, "button.govuk-button[value=check]:not(.govuk-visually-hidden)")
    summary = member.inner_text(".govuk-error-summary")
    assert "Line 1 hours must be in quarter-hour steps" in summary, summary
    assert member.input_value("#lines-0-worker") == "Amina Khan"  # input kept
    assert member.input_value("#lines-0-hours") == "3.3"
    checks.check(member, "claim-form-errors")

    type_into(member, "#lines-0-hours", "3.5")
    press_button(member, "button[value=add_line]")
    fill_line(member, 1, "11", "2", "Meeting", "Programme board")
    choose_option(member, "#expenses-0-category", "Travel")
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
    assert "submitted for £142.40" in member.inner_text(".govuk-notification-banner")
    checks.check(member, "claim-submitted")

    # 2. The approver finds it in the queue and asks a question.
    sign_in(approver, site, site.email("approver"))
    checks.check(approver, "home-approver")
    approver.click("text=Approvals")
    assert "1 claim to decide" in approver.inner_text("main")
    # 5 working days from Monday 16 November: Monday 23 November.
    assert "23 November 2026\ndue in 7 days" in approver.inner_text("main")
    checks.check(approver, "approvals-queue")
    approver.click("table a.govuk-link")
    assert approver.url == claim_url
    # The receipt beside its line: the thumbnail loads under the page's CSP.
    thumbnail = approver.locator("img.bridges-receipt-thumbnail")
    thumbnail.wait_for()
    assert thumbnail.evaluate("image => image.complete && image.naturalWidth > 0")
    checks.check(approver, "claim-for-approver")
    approver.click("text=Ask a question")
    checks.check(approver, "query-form")
    approver.click("button:has-text('Send question')")
    assert "Enter your question" in approver.inner_text(".govuk-error-summary")
    checks.check(approver, "query-form-errors")
    approver.fill("#question", "Which ward was the co-design workshop for?")
    approver.click("button:has-text('Send question')")
    assert "Queried" in approver.inner_text("h1")
    checks.check(approver, "claim-queried")

    # 3. Two days later the member answers.
    site.clock.advance(2)
    member.goto(claim_url)
    assert "Which ward was the co-design workshop for?" in member.inner_text("main")
    checks.check(member, "claim-with-question")
    member.click("text=Answer the question")
    checks.check(member, "answer-form")
    member.fill("#answer", "Ward 7, the discharge lounge")
    member.click("button:has-text('Send answer')")
    assert "Submitted" in member.inner_text("h1")
    checks.check(member, "claim-answered")

    # 4. The approver approves part of it, with the keyboard only; a reason is required.
    approver.goto(claim_url + "/approve")
    checks.check(approver, "approve-form")
    tab_to(approver, "input[name=how]")
    approver.keyboard.press("ArrowDown")  # "Part of it", revealing the amount and reason
    assert approver.is_checked("input[name=how][value=part]")
    type_into(approver, "#amount", "100.00")
    press_button(approver, "main form button.govuk-button")
    assert "A reason is required for a partial approval" in approver.inner_text(
        ".govuk-error-summary"
    )
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
    finance.click("button:has-text('Record payment')")
    assert "amount exceeds the claim's outstanding £100.00" in finance.inner_text(
        ".govuk-error-summary"
    )
    checks.check(finance, "payment-form-errors")
    finance.fill("#allocations-0-amount", "60.00")
    finance.click("button:has-text('Record payment')")
    assert finance.url == site.url("/payments")
    assert "Payment of £60.00" in finance.inner_text(".govuk-notification-banner")
    checks.check(finance, "payments")

    # 6. The member's claim and balance statement show what is still owed.
    member.goto(claim_url)
    assert money_text(member, "#outstanding") == "£40.00"
    assert "Approved in part" in member.inner_text("main")
    checks.check(member, "claim-part-paid")
    with member.expect_navigation():  # wait for the new page, not the old one
        member.click("nav >> text=Claims")
    # Received 16 November, 30 days' terms, plus the 2 days it spent queried: 18 December.
    assert "18 December 2026" in member.inner_text("table")
    assert "due in 30 days" in member.inner_text("table")
    checks.check(member, "claims-list")
    with member.expect_navigation():  # wait for the new page, not the old one
        member.click("nav >> text=Balances")
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
    viewer = new_context().new_page()
    sign_in(viewer, site, site.email("partner_viewer"))
    with viewer.expect_navigation():  # wait for the new page, not the old one
        viewer.click("nav >> text=Balances")
    assert (viewer.locator("svg[role=img] title").first.text_content() or "").startswith("Aging")
    checks.check(viewer, "partner-balances")

    assert len(checks.checked) >= 20
