"""The web forms' behaviour beyond the browser journey: refusals shown as errors, stale
versions, payments across several claims and their reversal, sessions and cookies."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import update

from services.ledger.store.views import people
from services.ledger.web.passwords import hash_password
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.world import World

from .conftest import PASSWORD, Browser


def test_a_queried_claim_cannot_be_approved_and_the_page_says_why(
    world: World, browser_for: Any, clock: MovableClock
) -> None:
    claim = world.submit(world.a, clock.today() - timedelta(days=1))
    claim = world.act(world.a, claim, "query", "approver", {"question": "Which ward?"})
    approver: Browser = browser_for("approver")
    before = world.events_written()
    response = approver.post(
        f"/claims/{claim['id']}/approve", {"version": str(claim["version"]), "how": "full"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert "A queried claim cannot be approved until its query is answered" in page
    assert world.events_written() == before


def test_a_stale_version_sends_the_approver_back_to_the_changed_claim(
    world: World, browser_for: Any, clock: MovableClock
) -> None:
    claim = world.submit(world.a, clock.today() - timedelta(days=1))
    approver: Browser = browser_for("approver")
    form_page = f"/claims/{claim['id']}/approve"
    assert 'name="version" value="1"' in approver.text(form_page)
    world.act(world.a, claim, "withdraw", "vcse_member")  # meanwhile, version 2
    before = world.events_written()
    response = approver.post(form_page, {"version": "1", "how": "full"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/claims/{claim['id']}")
    page = approver.text(f"/claims/{claim['id']}")
    assert "This claim changed while you were looking at it" in page
    assert world.events_written() == before


def test_finance_pays_several_claims_at_once_then_reverses_the_payment(
    world: World, browser_for: Any, clock: MovableClock
) -> None:
    first = world.act(world.a, world.submit(world.a, clock.today()), "approve", "approver")
    second = world.act(world.a, world.submit(world.a, clock.today()), "approve", "approver")
    finance: Browser = browser_for("finance")
    page = finance.text("/payments/new")
    assert page.count('name="allocations-') == 4  # claim id and amount for each claim
    rows = {first["id"]: "30.00", second["id"]: "142.40"}
    ordered = [first["id"], second["id"]]
    if page.index(second["id"]) < page.index(first["id"]):
        ordered.reverse()
    form: dict[str, str] = {
        "payee_id": world.a.payee_id,
        "paid_on-day": "16",
        "paid_on-month": "11",
        "paid_on-year": "2026",
        "reference": "BACS 9001",
    }
    for index, claim_id in enumerate(ordered):
        form[f"allocations-{index}-claim_id"] = claim_id
        form[f"allocations-{index}-amount"] = rows[claim_id]
    response = finance.post("/payments/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    listing = finance.text("/payments")
    assert "BACS 9001" in listing and "£172.40" in listing
    ledger = world.ledger
    assert ledger.get_claim(_principal(world, "finance"), first["id"])["paid_pence"] == 3000
    assert ledger.get_claim(_principal(world, "finance"), second["id"])["status"] == "paid"

    payment_id = ledger.list_claims  # placate linters about unused names below
    del payment_id
    from services.ledger.web.queries import payments_of

    (payment,) = payments_of(ledger, _principal(world, "finance"))
    reverse = f"/payments/{payment['id']}/reverse"
    refused = finance.post(reverse, {"reason": ""})
    assert refused.status_code == 400
    assert "Enter a reason" in refused.get_data(as_text=True)
    done = finance.post(reverse, {"reason": "The bank returned it"})
    assert done.status_code == 302
    assert "Reversed" in finance.text("/payments")
    assert ledger.get_claim(_principal(world, "finance"), second["id"])["status"] == "approved"
    # An approver without the finance role may not reverse payments.
    assert browser_for("approver").client.get(reverse).status_code == 403


def test_the_claim_form_keeps_rows_apart_when_blank_rows_are_left_out(
    world: World, browser_for: Any
) -> None:
    member: Browser = browser_for("vcse_member")
    response = member.post(
        "/claims/new",
        {
            "agreement_id": world.a.agreement_id,
            # Row 0 left blank; row 1 has a future date; an expense with a bad amount.
            "lines-0-worked_on-day": "",
            "lines-0-hours": " ",
            "lines-0-activity": "",
            "lines-0-worker": "",
            "lines-1-worked_on-day": "1",
            "lines-1-worked_on-month": "1",
            "lines-1-worked_on-year": "2030",
            "lines-1-hours": "2",
            "lines-1-activity": "meeting",
            "lines-1-worker": "Amina Khan",
            "lines-1-description": "Board",
            "expenses-0-category": "travel",
            "expenses-0-amount": "12.4.0",
            "expenses-0-description": "Bus",
            "action": "check",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page[page.index("govuk-error-summary") : page.index("Make a claim</h1>")]
    assert 'href="#lines-1-worked_on-day"' in page, summary
    assert "Line 2 date must not be in the future" in page
    assert 'href="#expenses-0-amount"' in page
    assert "must be an amount in pounds and pence" in page
    assert 'value="Amina Khan"' in page  # what was typed is kept


def test_a_member_withdraws_a_claim(world: World, browser_for: Any, clock: MovableClock) -> None:
    claim = world.submit(world.a, clock.today())
    member: Browser = browser_for("vcse_member")
    response = member.post(f"/claims/{claim['id']}/withdraw", {"version": "1"})
    assert response.status_code == 302
    assert "Withdrawn" in member.text(f"/claims/{claim['id']}")


def test_a_new_password_ends_older_sessions(world: World, browser_for: Any) -> None:
    member: Browser = browser_for("vcse_member")
    assert member.client.get("/claims").status_code == 200
    with world.ledger.store.engine.begin() as connection:
        connection.execute(
            update(people)
            .where(people.c.id == world.a.person_ids["vcse_member"])
            .values(password_hash=hash_password("another-password"))
        )
    response = member.client.get("/claims")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_sign_in_goes_back_only_to_pages_on_this_site(app: Flask, world: World) -> None:
    browser = Browser(app.test_client())
    token = browser.token("/sign-in?next=//evil.example/")
    response = browser.client.post(
        "/sign-in",
        data={
            "csrf_token": token,
            "email": "vcse_member.a@example.org",
            "password": PASSWORD,
            "next": "//evil.example/",
        },
    )
    assert response.headers["Location"] == "/"


def test_cookies_are_secure_by_default_outside_tests(sqlite_url: str) -> None:
    from services.ledger.api.app import create_app

    app = create_app(LedgerSettings(database_url=sqlite_url, secret_key="k" * 64), testing=False)
    response = app.test_client().get("/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def _principal(world: World, role: str) -> Any:
    from services.ledger.web.sessions import load_person

    loaded = load_person(world.ledger.store.engine, world.a.person_ids[role])
    assert loaded is not None
    return loaded[0].principal


def test_a_claim_form_submitted_twice_makes_one_claim(
    world: World, browser_for: Any, clock: MovableClock
) -> None:
    member: Browser = browser_for("vcse_member")
    day = clock.today() - timedelta(days=1)
    fields = {
        "agreement_id": world.a.agreement_id,
        "lines-0-worked_on-day": str(day.day),
        "lines-0-worked_on-month": str(day.month),
        "lines-0-worked_on-year": str(day.year),
        "lines-0-hours": "2",
        "lines-0-activity": "meeting",
        "lines-0-worker": "Amina Khan",
        "lines-0-description": "Programme board",
    }
    check = member.post("/claims/new", {**fields, "action": "check"})
    assert check.status_code == 200
    page = check.get_data(as_text=True)
    submission_id = re.search(r'name="submission_id" value="([0-9a-f]{32})"', page)
    assert submission_id, "the check page carries a one-time submission id"
    before = world.events_written()
    submit = {**fields, "action": "submit", "submission_id": submission_id.group(1)}
    first = member.post("/claims/new", submit)
    again = member.post("/claims/new", submit)  # a second press, or the form resent
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert world.events_written() == before + 1
    assert "was already submitted" in member.text(again.headers["Location"])
