"""What the browser tests do on every page: an axe-core check and a screenshot; and moving
through a form with the keyboard only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from .conftest import AXE_JS, SCREENSHOTS

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


class PageChecks:
    """Numbered screenshots in var/screenshots/<folder>/ and zero axe violations."""

    def __init__(self, folder: str) -> None:
        self.folder = SCREENSHOTS / folder
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0
        self.checked: list[str] = []

    def check(self, page: Page, name: str) -> Path:
        self.count += 1
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE_JS))
        violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, AXE_TAGS)
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert violations == [], f"axe-core violations on {name} ({page.url}): {violations}"
        self.checked.append(name)
        return path


def focused_matches(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            "(sel) => document.activeElement !== null && document.activeElement.matches(sel)",
            selector,
        )
    )


def tab_to(page: Page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        if focused_matches(page, selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector!r}")


def type_into(page: Page, selector: str, text: str) -> None:
    """Tab to a field, clear it and type, as a keyboard user would."""
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def choose_option(page: Page, selector: str, label_start: str) -> None:
    """Tab to a select and type the start of an option's label (type-ahead)."""
    tab_to(page, selector)
    page.keyboard.type(label_start)
    chosen = page.eval_on_selector(selector, "(s) => s.options[s.selectedIndex].text")
    assert chosen.startswith(label_start), (selector, chosen)


def press_button(page: Page, selector: str) -> None:
    """Tab to a button and press Enter; waits for the page that follows."""
    tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def money_text(page: Page, selector: str) -> str:
    return re.sub(r"\s+", " ", page.inner_text(selector)).strip()
