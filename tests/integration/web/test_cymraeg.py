"""Cymraeg: every page in Welsh or English, chosen by ?lang=, remembered in a cookie and the
session, Accept-Language by default; dates, money and form errors in the chosen language."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from services.ledger.api.app import create_app
from shared.settings import LedgerSettings
from tests.integration.web.test_receipt_forms import claim_fields
from tests.support.clock import MovableClock
from tests.support.oidc import configure_idp
from tests.support.receipts import jpeg_with_gps
from tests.support.world import World

from .conftest import Browser


@pytest.fixture
def app(sqlite_url: str, clock: MovableClock, tmp_path: Path) -> Flask:
    """The web conftest's app, keeping receipts in the test's own directory."""
    settings = LedgerSettings(database_url=sqlite_url, var_dir=str(tmp_path))
    return create_app(settings, clock=clock, testing=True)


def _html_lang(page: str) -> str:
    start = page.index("<html lang=") + len('<html lang="')
    return page[start : page.index('"', start)]


def test_lang_cy_switches_the_page_and_is_remembered(app: Flask, world: World) -> None:
    client = app.test_client()
    english = client.get("/sign-in").get_data(as_text=True)
    assert _html_lang(english) == "en"
    assert "Sign in to Bridges" in english
    # The switch: English is current (not a link), Cymraeg links to this page in Welsh.
    assert '<span aria-current="true" lang="en"><strong>English</strong></span>' in english
    assert 'href="/sign-in?lang=cy" hreflang="cy" lang="cy"' in english

    response = client.get("/sign-in?lang=cy")
    welsh = response.get_data(as_text=True)
    assert _html_lang(welsh) == "cy"
    assert "Mewngofnodi i Bridges" in welsh
    assert "Neidio i'r prif gynnwys" in welsh
    assert 'href="/sign-in?lang=en" hreflang="en" lang="en"' in welsh
    cookie = response.headers["Set-Cookie"]
    assert "bridges_lang=cy" in response.headers.getlist("Set-Cookie")[0] or "bridges_lang=cy" in (
        " ".join(response.headers.getlist("Set-Cookie"))
    ), cookie
    assert "Accept-Language" in response.headers["Vary"]

    # Remembered: the next page is Welsh without asking, until English is chosen.
    assert _html_lang(client.get("/sign-in").get_data(as_text=True)) == "cy"
    assert _html_lang(client.get("/sign-in?lang=en").get_data(as_text=True)) == "en"
    assert _html_lang(client.get("/sign-in").get_data(as_text=True)) == "en"


def test_the_cookie_alone_chooses_the_language(app: Flask, world: World) -> None:
    client = app.test_client()
    client.set_cookie("bridges_lang", "cy")
    assert "Mewngofnodi i Bridges" in client.get("/sign-in").get_data(as_text=True)
    client.set_cookie("bridges_lang", "klingon")  # not ours: Accept-Language, then English
    assert "Sign in to Bridges" in client.get("/sign-in").get_data(as_text=True)


def test_accept_language_is_the_default(app: Flask, world: World) -> None:
    client = app.test_client()
    page = client.get("/sign-in", headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.8"})
    assert _html_lang(page.get_data(as_text=True)) == "cy"
    page = client.get("/sign-in", headers={"Accept-Language": "en-GB,cy;q=0.5"})
    assert _html_lang(page.get_data(as_text=True)) == "en"
    # ?lang beats Accept-Language.
    page = client.get("/sign-in?lang=en", headers={"Accept-Language": "cy"})
    assert _html_lang(page.get_data(as_text=True)) == "en"


def test_a_wrong_password_is_told_in_welsh(app: Flask, world: World) -> None:
    browser = Browser(app.test_client())
    browser.client.get("/sign-in?lang=cy")
    response = browser.sign_in("vcse_member.a@example.org", "not-the-password")
    page = response.get_data(as_text=True)
    assert "Mae problem wedi codi" in page
    assert "Rhowch gyfeiriad e-bost a chyfrinair cywir" in page
    assert "<title>Gwall: " in page


def test_signed_in_pages_dates_money_and_errors_in_welsh(
    world: World, browser_for: Any, clock: Any
) -> None:
    member: Browser = browser_for("vcse_member")
    claim = world.submit(world.a, clock.today())
    home = member.text("/?lang=cy")
    assert _html_lang(home) == "cy"
    assert "Helo, " in home and "Gwneud hawliad" in home
    assert re.search(r'class="govuk-service-navigation__link"[^>]*>\s*Hawliadau\s*<', home)
    assert "Dewislen" in home  # the navigation's menu button
    claims = member.text("/claims")
    assert "Cymeradwyo erbyn" in claims
    assert "Tachwedd 2026" in claims  # Welsh month names (the test clock is in November)
    assert "yn ddyledus ymhen" in claims  # the countdown
    shown = member.text(f"/claims/{claim['id']}")
    assert "Hanes" in shown and "Cyflwynwyd am £" in shown

    response = member.post(
        "/claims/new",
        {
            "agreement_id": world.a.agreement_id,
            "lines-0-worked_on-day": "10",
            "lines-0-worked_on-month": "11",
            "lines-0-worked_on-year": "2026",
            "lines-0-hours": "3.3",
            "lines-0-activity": "meeting",
            "lines-0-worker": "Amina Khan",
            "lines-0-description": "Board",
            "action": "check",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Llinell 1, oriau: rhaid i&#39;r oriau fod mewn chwarteri awr" in page, page[:3000]

    # Switching back: the same pages in English.
    assert "Hello, " in member.text("/?lang=en")
    assert "November 2026" in member.text("/claims")


def test_error_pages_in_welsh(app: Flask, world: World, browser_for: Any) -> None:
    member: Browser = browser_for("vcse_member")
    member.client.get("/?lang=cy")
    response = member.client.get("/claims/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "Heb ddod o hyd i&#39;r dudalen" in response.get_data(as_text=True)


def test_a_question_reads_in_bold_and_its_words_stay_escaped(
    world: World, browser_for: Any, clock: Any
) -> None:
    claim = world.submit(world.a, clock.today())
    world.act(world.a, claim, "query", "approver", {"question": "Which <b>ward</b>?"})
    member: Browser = browser_for("vcse_member")
    for lang, label in (
        ("cy", "Cwestiwn gan y cymeradwywr:"),
        ("en", "Question from the approver:"),
    ):
        page = member.text(f"/claims/{claim['id']}?lang={lang}")
        assert f"<strong>{label}</strong> Which &lt;b&gt;ward&lt;/b&gt;?" in page


def test_a_person_and_their_admin_choose_the_language_of_emails(
    world: World, browser_for: Any
) -> None:
    from sqlalchemy import select

    from services.ledger.store.tables import events

    def chosen() -> list[dict[str, Any]]:
        with world.ledger.store.engine.connect() as connection:
            rows = connection.execute(
                select(events.c.data).where(events.c.type == "PreferredLanguageChosen")
            )
            return [dict(row.data) for row in rows]

    member: Browser = browser_for("vcse_member")
    page = member.text("/language?lang=cy")
    assert "Iaith e-byst a datganiadau" in page
    assert 'name="organisation"' not in page  # a member chooses only their own
    refused = member.post("/language", {"person": "fr"})
    assert refused.status_code == 400
    assert "Dewiswch iaith ar gyfer eich e-byst a&#39;ch datganiadau" in refused.get_data(
        as_text=True
    )
    assert chosen() == []
    done = member.post("/language", {"person": "cy"})
    assert done.status_code == 302
    assert chosen() == [
        {
            "organisation_id": world.a.payee_id,
            "person_id": world.a.person_ids["vcse_member"],
            "language": "cy",
        }
    ]

    admin: Browser = browser_for("vcse_admin")
    assert 'name="organisation"' in admin.text("/language")
    assert admin.post("/language", {"person": "en", "organisation": "cy"}).status_code == 302
    assert [(e["person_id"] is None, e["language"]) for e in chosen()[1:]] == [
        (False, "en"),
        (True, "cy"),
    ]


def test_a_reason_reads_in_bold_in_both_languages(
    world: World, browser_for: Any, clock: Any
) -> None:
    claim = world.submit(world.a, clock.today())
    world.act(world.a, claim, "reject", "approver", {"reason": "No <i>register</i> kept"})
    member: Browser = browser_for("vcse_member")
    for lang, label in (("cy", "Y rheswm a roddwyd:"), ("en", "Reason given:")):
        page = member.text(f"/claims/{claim['id']}?lang={lang}")
        assert f"<strong>{label}</strong> No &lt;i&gt;register&lt;/i&gt; kept" in page, lang
        assert "&lt;strong&gt;" not in page


def test_the_features_merged_with_cymraeg_read_in_welsh(
    app: Flask, world: World, browser_for: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign-in with an identity provider, receipts, the approval queue and e-invoices: the
    Welsh page has the Welsh words and none of the English ones they replace."""
    configure_idp(
        world.ledger,
        world.a.payer_id,
        "https://login.example.org/nhs",
        {"g": ["approver"]},
        monkeypatch,
    )
    sign_in = app.test_client().get("/sign-in?lang=cy").get_data(as_text=True)
    assert "Mewngofnodi gyda chyfrif eich sefydliad" in sign_in
    assert "Mewngofnodi gyda’ch cyfrif " in sign_in
    assert "Sign in with your" not in sign_in and "Microsoft account)" not in sign_in

    member: Browser = browser_for("vcse_member")
    new = member.text("/claims/new?lang=cy")
    assert "Ychwanegu derbynneb (dewisol)" in new and "Llun neu sgan: JPEG" in new
    assert "Add a receipt" not in new and "A photo or scan" not in new

    fields = claim_fields(world, clock.today() - timedelta(days=1))
    kept = member.post(
        "/claims/new",
        {
            **fields,
            "expenses-0-receipt": (io.BytesIO(jpeg_with_gps()), "bus.jpg", "image/jpeg"),
            "action": "add_expense",
        },
        form_page="/claims/new",
    ).get_data(as_text=True)
    assert "Derbynebau ynghlwm:" in kept and "Tynnu’r derbynebau hyn" in kept
    assert "Receipts attached" not in kept and "Remove these receipts" not in kept
    check = member.post(
        "/claims/new",
        {
            **fields,
            "expenses-0-receipt": (io.BytesIO(jpeg_with_gps()), "bus.jpg", "image/jpeg"),
            "action": "check",
        },
        form_page="/claims/new",
    ).get_data(as_text=True)
    submission = re.search(r'name="submission_id" value="([0-9a-f]{32})"', check)
    assert submission, check[:3000]
    receipt_ids = re.findall(r'name="expenses-0-receipt_ids" value="([0-9a-f]{64})"', check)
    done = member.post(
        "/claims/new",
        {
            **fields,
            "expenses-0-receipt_ids": receipt_ids,
            "submission_id": submission.group(1),
            "action": "submit",
        },
        form_page="/claims/new",
    )
    claim_page = done.headers["Location"]
    shown = member.text(claim_page)
    assert "bridges-receipt-thumbnail" in shown
    assert "Safle yng nghiw cymeradwyo’r talwr" in shown and "Tan fod y taliad yn ddyledus" in shown
    assert "diwrnod gwaith ar ôl" in shown
    assert "approval queue" not in shown and "working day" not in shown
    listed = member.text("/claims")
    assert re.search(r"\d+ o \d+", listed) and "i gymeradwyo" in listed
    assert "to approve" not in listed

    for organisation_id, gln in (
        (world.a.payee_id, "0088:5012345000008"),
        (world.a.payer_id, "0088:5098765000002"),
    ):
        world.api.ok(
            "PATCH", f"/organisations/{organisation_id}", world.operator_token, {"peppol_id": gln}
        )
    claim_id = claim_page.rsplit("/", 1)[1]
    claim = world.api.ok("GET", f"/claims/{claim_id}", world.a.tokens["approver"])
    world.act(world.a, claim, "approve", "approver")
    offer = member.text(claim_page)
    assert "Creu’r e-anfoneb" in offer and "Create the e-invoice" not in offer
    member.post(f"{claim_page}/invoice", {}, form_page=claim_page)
    invoiced = member.text(claim_page)
    assert "Crëwyd e-anfoneb BRG-00001" in invoiced
    assert "Lawrlwytho’r anfoneb fel PDF" in invoiced and "i’w dalu" in invoiced
    assert "Download the invoice" not in invoiced and "to pay." not in invoiced
