"""Welsh and English (Welsh Language Standards): the language of the moment, its message
catalogue, and how dates, money and numbers read in it.

English is the source language: every msgid is the English text, so English needs no
catalogue. The Welsh one is shared/translations/cy/LC_MESSAGES/messages.po (and its compiled
.mo, both committed; `make translations` refreshes them). One catalogue serves the ledger's
pages (through Flask-Babel) and every code path outside a Flask request: the notifier's emails
and statements, problem documents. The language of the moment is a context variable: the web
layers set it per request (shared/i18n_web.py), a job that writes to one person sets it with
`use_language` around the rendering.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import date
from decimal import Decimal
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

# The marker lives in the framework-free shared.messages (the domain uses it); re-exported.
from .messages import N_ as N_
from .messages import Message as Message

ENGLISH = "en"
WELSH = "cy"
LANGUAGES = (ENGLISH, WELSH)
DEFAULT_LANGUAGE = ENGLISH
# Each language by its own name, as the switch shows it.
LANGUAGE_NAMES = {ENGLISH: "English", WELSH: "Cymraeg"}
BABEL_LOCALES = {ENGLISH: "en_GB", WELSH: "cy_GB"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("bridges_language", default=DEFAULT_LANGUAGE)


def normalise(value: object) -> str | None:
    """'cy', 'cy-GB', 'CY_gb' → 'cy'; 'en-US' → 'en'; anything else → None."""
    if not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header (RFC 9110 §12.5.4 q-values)."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        language = normalise(tag)
        if language is None:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        # An earlier tag wins a tie (a tiny penalty per position).
        score = quality - position * 1e-6
        if quality > 0 and score > best_q:
            best, best_q = language, score
    return best


def language() -> str:
    """The language of the moment ('en' unless a request or `use_language` chose another)."""
    return _current.get()


def set_language(value: str) -> Token[str]:
    return _current.set(normalise(value) or DEFAULT_LANGUAGE)


def reset_language(token: Token[str]) -> None:
    _current.reset(token)


@contextmanager
def use_language(value: str | None) -> Iterator[str]:
    """Render in `value` (or the default when it is None or not one of ours)."""
    token = set_language(value or DEFAULT_LANGUAGE)
    try:
        yield language()
    finally:
        _current.reset(token)


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    """The catalogue of `lang` (the committed .mo); English is the msgids themselves."""
    if lang == ENGLISH:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [lang], DOMAIN)


def gettext(message: str, /, **values: Any) -> str:
    """`message` in the language of the moment, with %(name)s placeholders filled."""
    text = translations(language()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, count: int, /, **values: Any) -> str:
    """The plural form of the language of the moment for `count` (Welsh has six)."""
    text = translations(language()).ngettext(singular, plural, count)
    return text % {"num": count, **values}


_ = gettext


def translate(message: str) -> str:
    """A message made elsewhere (the domain's refusals, marked with `N_`), in the language of the
    moment: a `Message` by its msgid, its values that are messages translated too (other values,
    such as names and dates, as they are); a plain string by itself as the msgid (unchanged when
    the catalogue does not have it)."""
    if isinstance(message, Message):
        values = {
            name: translate(value) if isinstance(value, Message) else value
            for name, value in message.values.items()
        }
        return gettext(message.msgid, **values)
    return gettext(message) if message else message


def babel_locale(lang: str | None = None) -> Locale:
    try:
        return Locale.parse(BABEL_LOCALES[normalise(lang or language()) or DEFAULT_LANGUAGE])
    except (KeyError, UnknownLocaleError):  # pragma: no cover - both locales ship with Babel
        return Locale.parse(BABEL_LOCALES[DEFAULT_LANGUAGE])


def long_date(value: date) -> str:
    """'5 March 2026' / '5 Mawrth 2026'."""
    return _babel_date(value, "d MMMM y", locale=babel_locale())


def short_date(value: date) -> str:
    """'5 Mar 2026' / '5 Maw 2026'."""
    return _babel_date(value, "d MMM y", locale=babel_locale())


def money(pence: int) -> str:
    """Pence as pounds in the language of the moment: '£1,234.56'."""
    return format_currency(Decimal(pence) / 100, "GBP", locale=babel_locale())


def number(value: int | float | Decimal) -> str:
    return format_decimal(value, locale=babel_locale())
