"""The real ledger app served on 127.0.0.1 for headless Chromium (Debian's, driven by
Playwright), with two tenants, known passwords and a clock the tests move."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import update
from werkzeug.serving import make_server

from services.ledger.api.app import create_app
from services.ledger.application import Ledger
from services.ledger.store.views import people
from services.ledger.web.passwords import hash_password
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, World, build_world

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = REPO_ROOT / "services" / "ledger" / "web"
AXE_JS = WEB_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
PASSWORD = "correct-horse-battery"  # noqa: S105 - test data
TODAY = date(2026, 11, 16)  # a Monday


@dataclass
class Site:
    base_url: str
    clock: MovableClock
    ledger: Ledger
    world: World

    def email(self, role: str, tenant: str = "a") -> str:
        return f"{role}.{tenant}@example.org"

    def url(self, path: str) -> str:
        return self.base_url + path


def _require_built_assets() -> None:
    missing = [
        str(path)
        for path in (
            AXE_JS,
            WEB_DIR / "static" / "govuk" / "bridges.css",
            WEB_DIR / "static" / "govuk" / "govuk-frontend.min.js",
        )
        if not path.exists()
    ]
    if missing:
        pytest.fail(
            "web assets are not built; run `bash deploy/local/assets.sh` (make test does): "
            + ", ".join(missing),
            pytrace=False,
        )
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium", pytrace=False)


@pytest.fixture(scope="module")
def site(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve_site(_sqlite_template, tmp_path_factory) as served:
        yield served


@contextmanager
def serve_site(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh ledger with two tenants, served until the block ends."""
    _require_built_assets()
    database = tmp_path_factory.mktemp("browser") / "ledger.db"
    shutil.copyfile(_sqlite_template, database)
    clock = MovableClock(TODAY)
    settings = LedgerSettings(
        database_url=f"sqlite:///{database}", receipts_dir=str(database.parent / "receipts")
    )
    app = create_app(settings, clock=clock, testing=True)
    ledger: Ledger = app.extensions["bridges.ledger"]
    world = build_world(ApiClient(app.test_client()), ledger, clock.today())
    everyone = [i for tenant in (world.a, world.b) for i in tenant.person_ids.values()]
    with ledger.store.engine.begin() as connection:  # one argon2 hash for all: it is slow
        connection.execute(
            update(people)
            .where(people.c.id.in_(everyone))
            .values(password_hash=hash_password(PASSWORD))
        )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bridges-web", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", clock, ledger, world)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        ledger.store.engine.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Make browser contexts (one per person); all are closed after the test.

    `bypass_csp=True` lets axe-core be injected from node_modules as an inline script; the
    policy itself is checked in a context that enforces it (test_security.py)."""
    contexts: list[BrowserContext] = []

    def make(*, bypass_csp: bool = True, locale: str = "en-GB") -> BrowserContext:
        context = browser.new_context(
            bypass_csp=bypass_csp, viewport={"width": 1100, "height": 900}, locale=locale
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Page, site: Site, email: str, password: str = PASSWORD) -> None:
    """Sign in with the mouse (the keyboard-only path is part of the journey)."""
    page.goto(site.url("/sign-in"))
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main form .govuk-button:not(.govuk-password-input__toggle)")  # any language
    page.wait_for_url(site.url("/"))
