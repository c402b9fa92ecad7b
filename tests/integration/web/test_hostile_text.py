"""Text the product does not accept (shared/text.py), typed into every free-text field of the web
forms: the form comes back (400) with the GOV.UK error summary pointing at the field, what else
was typed is kept, nothing is written, and the pages keep working. Accepted multi-line text
(line breaks in a reason) shows on the claim's page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.ledger.api.app import create_app
from shared.settings import LedgerSettings
from tests.integration.web.conftest import TODAY, Browser
from tests.support.clock import MovableClock
from tests.support.world import World

BAD = [
    pytest.param("Amina\x00Khan", id="nul"),
    pytest.param("\x1b[31mred", id="escape"),
    pytest.param("Amina\x7f", id="del"),
    pytest.param("Amina\x85Khan", id="c1-next-line"),
    pytest.param("Amina \u202eKhan", id="bidi-override"),
    pytest.param("x" * 5000, id="very-long"),
]
BAD_IN_ONE_LINE = [*BAD, pytest.param("Amina\nKhan", id="newline"), pytest.param("a\tb", id="tab")]


def _claim_form(world: World, **changes: str) -> dict[str, str]:
    form = {
        "agreement_id": world.a.agreement_id,
        "lines-0-worked_on-day": str(TODAY.day),
        "lines-0-worked_on-month": str(TODAY.month),
        "lines-0-worked_on-year": str(TODAY.year),
        "lines-0-hours": "2",
        "lines-0-activity": "meeting",
        "lines-0-worker": "Amina Khan",
        "lines-0-description": "Programme board",
        "expenses-0-category": "travel",
        "expenses-0-amount": "12.40",
        "expenses-0-description": "Bus fares",
        "action": "submit",
    }
    form.update(changes)
    return form


Post = Callable[[World, Any, str], tuple[Browser, Any]]


def _claim(field: str) -> Post:
    def post(world: World, browser_for: Any, value: str) -> tuple[Browser, Any]:
        member: Browser = browser_for("vcse_member")
        return member, member.post("/claims/new", _claim_form(world, **{field: value}))

    return post


def _decision(action: str, field: str, role: str = "approver", **extra: str) -> Post:
    def post(world: World, browser_for: Any, value: str) -> tuple[Browser, Any]:
        claim = world.submit(world.a, TODAY)
        if action == "answer":
            claim = world.act(world.a, claim, "query", "approver", {"question": "Which?"})
        browser: Browser = browser_for(role)
        path = f"/claims/{claim['id']}/{action}"
        data = {"version": str(claim["version"]), field: value, **extra}
        return browser, browser.post(path, data)

    return post


def _payment(world: World, browser_for: Any, value: str) -> tuple[Browser, Any]:
    claim = world.act(world.a, world.submit(world.a, TODAY), "approve", "approver")
    finance: Browser = browser_for("finance")
    form = {
        "payee_id": world.a.payee_id,
        "paid_on-day": str(TODAY.day),
        "paid_on-month": str(TODAY.month),
        "paid_on-year": str(TODAY.year),
        "reference": value,
        "allocations-0-claim_id": claim["id"],
        "allocations-0-amount": "10.00",
    }
    return finance, finance.post("/payments/new", form)


def _reverse(world: World, browser_for: Any, value: str) -> tuple[Browser, Any]:
    claim = world.act(world.a, world.submit(world.a, TODAY), "approve", "approver")
    payment = world.pay(world.a, claim, 1000, TODAY)
    finance: Browser = browser_for("finance")
    return finance, finance.post(f"/payments/{payment['id']}/reverse", {"reason": value})


# form field id → (how to post it, multi-line)
FORM_FIELDS: dict[str, tuple[Post, bool]] = {
    "lines-0-worker": (_claim("lines-0-worker"), False),
    "lines-0-description": (_claim("lines-0-description"), True),
    "expenses-0-description": (_claim("expenses-0-description"), True),
    "question": (_decision("query", "question"), True),
    "answer": (_decision("answer", "answer", role="vcse_member"), True),
    "reason": (_decision("reject", "reason"), True),
    "approve-reason": (_decision("approve", "reason", how="part", amount="1.00"), True),
    "reference": (_payment, False),
    "reverse-reason": (_reverse, True),
}


def _check_refused(world: World, browser: Browser, response: Any, field: str, before: int) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:3000]
    assert "govuk-error-summary" in page
    assert f'href="#{field.split("-", 1)[1] if field.endswith("-reason") else field}"' in page
    assert world.events_written() == before, "a refused form wrote events"
    assert browser.client.get("/claims").status_code == 200


@pytest.mark.parametrize("field", sorted(FORM_FIELDS))
@pytest.mark.parametrize("value", BAD)
def test_a_form_refuses_text_the_product_does_not_accept(
    world: World, browser_for: Any, field: str, value: str
) -> None:
    post, _ = FORM_FIELDS[field]
    browser, response = _posted(world, browser_for, post, value)
    _check_refused(world, browser, response, field, world.before)  # type: ignore[attr-defined]


@pytest.mark.parametrize("field", sorted(f for f, (_, multi) in FORM_FIELDS.items() if not multi))
@pytest.mark.parametrize("value", BAD_IN_ONE_LINE[-2:])
def test_a_one_line_field_refuses_line_breaks_and_tabs(
    world: World, browser_for: Any, field: str, value: str
) -> None:
    post, _ = FORM_FIELDS[field]
    browser, response = _posted(world, browser_for, post, value)
    _check_refused(world, browser, response, field, world.before)  # type: ignore[attr-defined]


def _posted(world: World, browser_for: Any, post: Post, value: str) -> tuple[Browser, Any]:
    """Post, remembering the event store's position just before the form itself is sent."""
    original = Browser.post

    def remembering(self: Browser, path: str, data: dict[str, Any], form_page: Any = None) -> Any:
        world.before = world.events_written()  # type: ignore[attr-defined]
        return original(self, path, data, form_page)

    Browser.post = remembering  # type: ignore[method-assign]
    try:
        return post(world, browser_for, value)
    finally:
        Browser.post = original  # type: ignore[method-assign]


def test_the_claim_form_keeps_what_was_typed_and_names_the_character(
    world: World, browser_for: Any
) -> None:
    member: Browser = browser_for("vcse_member")
    before = world.events_written()
    response = member.post("/claims/new", _claim_form(world, **{"lines-0-worker": "Amina\x00"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "U+0000 at character 6" in page
    assert 'value="Programme board"' in page
    assert world.events_written() == before


def test_a_reason_with_line_breaks_is_accepted_and_its_page_renders(
    world: World, browser_for: Any
) -> None:
    claim = world.submit(world.a, TODAY)
    approver: Browser = browser_for("approver")
    response = approver.post(
        f"/claims/{claim['id']}/query",
        {"version": str(claim["version"]), "question": "Which workshop?\r\n\tAnd when?"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = approver.text(f"/claims/{claim['id']}")
    assert "Which workshop?" in page and "And when?" in page


@pytest.mark.parametrize("email", ["someone\x00@example.org", "a\x1b@example.org"])
def test_sign_in_refuses_control_characters_in_the_email(
    database_url: str, clock: MovableClock, email: str
) -> None:
    app = create_app(LedgerSettings(database_url=database_url), clock=clock, testing=True)
    response = Browser(app.test_client()).sign_in(email)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:2000]
    assert "govuk-error-summary" in page and 'href="#email"' in page
    assert "control characters" in page
