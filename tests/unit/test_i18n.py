"""shared/i18n.py: choosing a language, and dates, money and numbers in English and Welsh."""

from __future__ import annotations

from datetime import date

import pytest

from shared import i18n


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        (None, "en"),
        ("", "en"),
        ("cy", "cy"),
        ("cy-GB,cy;q=0.9,en;q=0.5", "cy"),
        ("en-GB,en;q=0.9,cy;q=0.8", "en"),
        ("fr-FR,cy;q=0.3", "cy"),
        ("fr, de", "en"),
        ("en;q=0.2, cy;q=0.7", "cy"),
        ("cy;q=0", "en"),
        ("cy;q=abc, en", "en"),
    ],
)
def test_accept_language_picks_the_best_of_our_languages(header: str | None, chosen: str) -> None:
    assert i18n.negotiate(header) == chosen


def test_dates_money_and_numbers_follow_the_language() -> None:
    day = date(2026, 3, 5)
    with i18n.use_language("en"):
        assert i18n.long_date(day) == "5 March 2026"
        assert i18n.short_date(day) == "5 Mar 2026"
        assert i18n.money(123450) == "£1,234.50"
        assert i18n.money(-1240) == "-£12.40"
        assert i18n.number(1234.5) == "1,234.5"
    with i18n.use_language("cy"):
        assert i18n.long_date(day) == "5 Mawrth 2026"
        assert i18n.long_date(date(2026, 11, 18)) == "18 Tachwedd 2026"
        assert i18n.short_date(day) == "5 Maw 2026"
        assert i18n.money(123450) == "£1,234.50"
        assert i18n.gettext("Claims") == "Hawliadau"
        assert i18n.gettext("Hello, %(name)s", name="Amina") == "Helo, Amina"
    assert i18n.language() == "en"  # use_language put it back


def test_welsh_plurals_use_the_six_forms_of_the_catalogue() -> None:
    with i18n.use_language("cy"):
        for count in (0, 1, 2, 3, 6, 11):
            assert i18n.ngettext("%(num)d day", "%(num)d days", count) == f"{count} diwrnod"
    with i18n.use_language("en"):
        assert i18n.ngettext("%(num)d day", "%(num)d days", 1) == "1 day"
        assert i18n.ngettext("%(num)d day", "%(num)d days", 2) == "2 days"


def test_an_unknown_language_falls_back_to_english() -> None:
    with i18n.use_language("fr"):
        assert i18n.language() == "en"
        assert i18n.gettext("Claims") == "Claims"
    assert i18n.normalise("CY_gb") == "cy"
    assert i18n.normalise(None) is None
