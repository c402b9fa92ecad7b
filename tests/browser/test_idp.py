"""A member of NHS staff signs in with their organisation's account in Chromium: the button on
Bridges' sign-in page, the provider's own login page (mock-oauth2-server on loopback, where a
person types who they are as they would type their password at Entra ID), and back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.conftest import SCREENSHOTS, Site
from tests.support.oidc import IdpUser, configure_idp, new_issuer, reached_at

APPROVERS = "5c1e2a77-bridges-approvers"


def test_staff_sign_in_through_their_organisations_login_page(
    site: Site,
    new_context: Callable[..., BrowserContext],
    oidc_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure_idp(
        site.ledger,
        site.world.b.payer_id,
        new_issuer(oidc_url),
        {APPROVERS: ["approver"]},
        monkeypatch,
    )
    reached_at(site.ledger, site.base_url)
    page = new_context(bypass_csp=False).new_page()  # the real content security policy
    page.goto(site.url("/sign-in"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "idp-sign-in.png"))
    page.click("text=Sign in with your ICB B account")
    page.wait_for_url(f"{oidc_url}/**")
    assert "Mock OAuth2 Server Sign-in" in page.inner_text("body")
    user = IdpUser("entra-oid-0001", "amara.approver@nhs-b.example", [APPROVERS], "Amara Approver")
    page.fill("input[name=username]", user.subject)
    page.fill("textarea[name=claims]", user.claims())
    page.click("input[type=submit]")
    page.wait_for_url(site.url("/"))
    assert "Amara Approver" in page.inner_text("header")
    page.click("nav >> text=Approvals")
    page.wait_for_url(site.url("/approvals"))
    assert page.inner_text("h1").strip()
    page.screenshot(path=str(SCREENSHOTS / "idp-approvals.png"))
