"""Alerts, statements and indicators in headless Chromium: a partner viewer signs in, looks at
the alerts and acknowledges one, opens a statement and downloads the PDF, and views the
indicators with their charts; then the same pages with the notifier stopped. The ledger's web
pages fetch from a real notifier API (tests/support/notifier_pages.py). Every page is
checked with axe-core and screenshotted to var/screenshots/notifier-pages/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page

from tests.support.notifier_pages import PASSWORD, Scene, Served, notifier_scene, pence

from .conftest import _require_built_assets
from .helpers import PageChecks, money_text


@pytest.fixture(scope="module")
def scene(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    _require_built_assets()
    with notifier_scene(_sqlite_template, tmp_path_factory.mktemp("notifier-browser")) as built:
        yield built


@pytest.fixture(scope="module")
def web(scene: Scene) -> Iterator[str]:
    served = Served(scene.ledger_app, "bridges-web-notifier-pages")
    yield served.url
    served.stop()


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(base_url + "/")


def test_partner_viewer_alerts_statement_and_indicators(
    scene: Scene, web: str, new_context: Callable[..., BrowserContext], tmp_path: Path
) -> None:
    checks = PageChecks("notifier-pages")
    a = scene.world.a
    viewer = new_context().new_page()
    sign_in(viewer, web, scene.email("partner_viewer"))

    # 1. Alerts: the open ones, newest first; acknowledge one.
    with viewer.expect_navigation():  # wait for the new page, not the old one
        viewer.click("nav >> text=Alerts")
    assert viewer.url == web + "/alerts"
    rows = viewer.locator("tr[data-alert]")
    assert rows.count() == len(
        [r for r in scene.alert_rows(a.partnership_id) if r.status == "open"]
    )
    checks.check(viewer, "alerts")
    overdue = viewer.locator("tr[data-kind=payment_overdue]").first
    title = overdue.locator("[data-alert-title]").inner_text()
    with viewer.expect_navigation():
        overdue.locator("button:has-text('Acknowledge')").click()
    assert f"Alert acknowledged: {title}" in viewer.inner_text(".govuk-notification-banner")
    assert viewer.locator("tr[data-kind=payment_overdue]").count() == 0
    checks.check(viewer, "alerts-acknowledged")
    viewer.select_option("#status", "acknowledged")
    with viewer.expect_navigation():
        viewer.click("button:has-text('Show alerts')")
    assert viewer.locator("tr[data-status=acknowledged]").count() == 1
    assert "Acknowledged" in viewer.inner_text("tr[data-status=acknowledged] .govuk-tag")
    checks.check(viewer, "alerts-filtered")

    # 2. Statements: what is owed today, equal to the balances page; download the PDF.
    with viewer.expect_navigation():  # wait for the new page, not the old one
        viewer.click("nav >> text=Balances")
    balance_outstanding = pence(money_text(viewer, "[data-figure=outstanding]"))
    balance_awaiting = pence(money_text(viewer, "[data-figure=awaiting]"))
    with viewer.expect_navigation():  # wait for the new page, not the old one
        viewer.click("nav >> text=Statements")
    assert "What is owed as at 16 November 2026" in viewer.inner_text("main")
    assert pence(money_text(viewer, "[data-total=open]")) == balance_outstanding + balance_awaiting
    assert viewer.locator("svg[role=img] title").first.text_content() == (
        "What ICB A owes Charity A, by how late it is"
    )
    checks.check(viewer, "statement-outstanding")
    with viewer.expect_download() as download_info:
        viewer.click("a[data-download=pdf]")
    download = download_info.value
    assert download.suggested_filename.startswith("bridges-outstanding-charity-a-icb-a-")
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    # An activity statement over a period; a date that does not exist is refused.
    viewer.check("#kind-2")
    for prefix, (day, month, year) in (
        ("start", ("1", "6", "2026")),
        ("end", ("31", "10", "2026")),
    ):
        viewer.fill(f"#{prefix}-day", day)
        viewer.fill(f"#{prefix}-month", month)
        viewer.fill(f"#{prefix}-year", year)
    with viewer.expect_navigation():
        viewer.click("button:has-text('Show statement')")
    assert "Activity from 1 June 2026 to 31 October 2026" in viewer.inner_text("main")
    assert viewer.locator("[data-lines] tbody tr").count() >= 8
    checks.check(viewer, "statement-activity")
    viewer.check("#kind")
    viewer.fill("#as_at-day", "31")
    viewer.fill("#as_at-month", "2")
    with viewer.expect_navigation():
        viewer.click("button:has-text('Show statement')")
    summary = viewer.inner_text(".govuk-error-summary")
    assert "The statement date must be a real date" in summary
    checks.check(viewer, "statement-error")
    viewer.click(".govuk-error-summary a")
    assert viewer.evaluate("document.activeElement.id") == "as_at-day"

    # 3. Indicators: figures with benchmarks, three charts, each with its data as a table.
    with viewer.expect_navigation():  # wait for the new page, not the old one
        viewer.click("nav >> text=Indicators")
    assert viewer.locator("tr[data-figure]").count() >= 20
    assert viewer.locator("svg[role=img]").count() == 3
    for chart in ("days-to-pay", "aging-over-time", "on-time"):
        svg = viewer.locator(f"[data-chart={chart}] svg")
        assert (svg.get_attribute("aria-labelledby") or "").count(" ") == 1
        assert (svg.locator("desc").text_content() or "").strip()
    checks.check(viewer, "indicators")
    for summary_text in viewer.locator(".govuk-details__summary").all():
        summary_text.click()
    assert viewer.locator("[data-chart-table=on-time]").is_visible()
    checks.check(viewer, "indicators-chart-tables")
    viewer.check("#scope-2")
    with viewer.expect_navigation():
        viewer.click("button:has-text('Show indicators')")
    assert "ICB A, " in viewer.inner_text("#figures")
    checks.check(viewer, "indicators-organisation")

    assert len(checks.checked) == 9


def test_the_pages_work_under_the_content_security_policy(
    scene: Scene, web: str, new_context: Callable[..., BrowserContext]
) -> None:
    """With the policy enforced (no bypass), the charts (inline SVG, no style attributes) and
    GOV.UK Frontend's scripts load and nothing is blocked."""
    page = new_context(bypass_csp=False).new_page()
    blocked: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            blocked.append(message.text)

    page.on("console", watch)
    page.on("pageerror", lambda error: blocked.append(str(error)))
    sign_in(page, web, scene.email("finance"))
    for path in ("/alerts?status=all", "/statements", "/indicators"):
        page.goto(web + path)
        assert "govuk-frontend-supported" in (page.get_attribute("body", "class") or ""), path
    assert page.locator("svg[role=img]").count() == 3
    assert blocked == []


def test_the_pages_say_when_the_notifier_is_stopped(
    scene: Scene, new_context: Callable[..., BrowserContext]
) -> None:
    checks = PageChecks("notifier-pages/unavailable")
    notifier = scene.serve_notifier()
    site = Served(scene.ledger_app_with_notifier_at(notifier.url), "bridges-web-no-notifier")
    notifier.stop()
    try:
        page = new_context().new_page()
        sign_in(page, site.url, scene.email("vcse_member"))
        for path, name, what in (
            ("/alerts", "alerts", "Alerts"),
            ("/statements", "statements", "Statements"),
            ("/indicators", "indicators", "Indicators"),
        ):
            response = page.goto(site.url + path)
            assert response is not None and response.status == 200
            banner = page.inner_text(".govuk-notification-banner")
            assert f"{what} are not available right now" in banner
            checks.check(page, f"{name}-unavailable")
    finally:
        site.stop()
