"""S8 in the browser: CSRF on every form, session cookie flags, security headers, a CSP that
the pages live with, role checks, and the sign-in rate limit."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, ConsoleMessage

from .conftest import PASSWORD, Site, sign_in
from .helpers import PageChecks


def _directives(policy: str) -> dict[str, str]:
    parts = (p.strip() for p in policy.split(";") if p.strip())
    return {p.split(" ", 1)[0]: (p.split(" ", 1) + [""])[1] for p in parts}


def test_form_without_csrf_token_is_refused_and_writes_nothing(
    site: Site, new_context: Callable[..., BrowserContext]
) -> None:
    context = new_context()
    page = context.new_page()
    sign_in(page, site, site.email("vcse_member", "b"))
    before = site.ledger.store.last_position()
    form = {
        "agreement_id": site.world.b.agreement_id,
        "lines-0-worked_on-day": "10",
        "lines-0-worked_on-month": "11",
        "lines-0-worked_on-year": "2026",
        "lines-0-hours": "2",
        "lines-0-activity": "meeting",
        "lines-0-worker": "Someone",
        "lines-0-description": "Board",
        "action": "submit",
    }
    # The same signed-in browser session, without the token: refused.
    response = context.request.post(site.url("/claims/new"), form=form)
    assert response.status == 400
    assert "The form could not be checked" in response.text()
    assert site.ledger.store.last_position() == before
    # A made-up token is refused too; sign-out without a token does not sign out.
    response = context.request.post(site.url("/claims/new"), form={**form, "csrf_token": "x"})
    assert response.status == 400
    assert context.request.post(site.url("/sign-out")).status == 400
    assert site.ledger.store.last_position() == before
    # With the page's token, the same post goes through (so the refusal was the token's).
    page.goto(site.url("/claims/new"))
    token = page.get_attribute("input[name=csrf_token]", "value")
    response = context.request.post(site.url("/claims/new"), form={**form, "csrf_token": token})
    assert response.ok
    assert site.ledger.store.last_position() == before + 1


def test_session_cookie_flags_and_security_headers(
    site: Site, new_context: Callable[..., BrowserContext]
) -> None:
    context = new_context()
    page = context.new_page()
    response = page.goto(site.url("/sign-in"))
    assert response is not None
    headers = response.headers
    policy = _directives(headers["content-security-policy"])
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert headers["cache-control"] == "no-store"
    # The JSON API keeps its own stricter policy.
    api = context.request.get(site.url("/api/v1/claims"))
    assert api.headers["content-security-policy"].startswith("default-src 'none'")

    sign_in(page, site, site.email("vcse_admin"))
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["bridges_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["secure"] is False  # testing over http; on by default otherwise
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it


def test_pages_work_under_the_content_security_policy(
    site: Site, new_context: Callable[..., BrowserContext]
) -> None:
    """With the policy enforced (no bypass), GOV.UK Frontend still starts from our static
    files and nothing is blocked."""
    page = new_context(bypass_csp=False).new_page()
    blocked: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            blocked.append(message.text)

    page.on("console", watch)
    page.on("pageerror", lambda error: blocked.append(str(error)))
    sign_in(page, site, site.email("approver", "b"))
    for path in ("/", "/claims", "/approvals", "/balances"):
        page.goto(site.url(path))
        classes = page.get_attribute("body", "class") or ""
        assert "js-enabled" in classes and "govuk-frontend-supported" in classes, path
        # initAll() ran: the service navigation's menu button is set up by its JS.
        page.wait_for_selector("[data-module=govuk-service-navigation]")
        assert page.evaluate(
            "document.querySelector('[data-module=govuk-service-navigation]')"
            ".hasAttribute('data-govuk-service-navigation-init')"
        ), path
    assert blocked == []


def test_vcse_member_cannot_reach_approver_or_finance_pages(
    site: Site, new_context: Callable[..., BrowserContext]
) -> None:
    checks = PageChecks("refusals")
    page = new_context().new_page()
    sign_in(page, site, site.email("vcse_member", "b"))
    nav = page.inner_text("nav")
    assert "Approvals" not in nav and "Payments" not in nav
    for path in ("/approvals", "/payments", "/payments/new"):
        response = page.goto(site.url(path))
        assert response is not None and response.status == 403, path
    checks.check(page, "forbidden")
    claim = site.world.submit(site.world.b, site.clock.today())
    for action in ("approve", "query", "reject"):
        response = page.goto(site.url(f"/claims/{claim['id']}/{action}"))
        assert response is not None and response.status == 403, action
    # Another tenant's claim does not exist, as far as this member can tell.
    other = site.world.submit(site.world.a, site.clock.today())
    response = page.goto(site.url(f"/claims/{other['id']}"))
    assert response is not None and response.status == 404
    checks.check(page, "not-found")


def test_sixth_bad_password_answers_429(
    site: Site, new_context: Callable[..., BrowserContext]
) -> None:
    checks = PageChecks("rate-limit")
    page = new_context().new_page()
    email = site.email("finance", "b")
    statuses = []
    for attempt in range(6):
        page.goto(site.url("/sign-in"))
        page.fill("#email", email)
        page.fill("#password", f"wrong-{attempt}")
        with page.expect_navigation() as navigation:
            page.click("button:has-text('Sign in')")
        statuses.append(navigation.value.status)
    assert statuses == [400, 400, 400, 400, 400, 429]
    assert "Too many attempts" in page.inner_text("h1")
    assert re.fullmatch(r"\d+", navigation.value.headers["retry-after"])
    checks.check(page, "too-many-attempts")
    # Even the right password waits out the window now.
    page.goto(site.url("/sign-in"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Sign in')")
    assert navigation.value.status == 429
