"""The text the product accepts, defined once for both services' APIs, the domain and the forms.

Accepted: Unicode scalar values (so no lone surrogates such as "\\ud800", which cannot be
encoded as UTF-8 for a page, a CSV or PostgreSQL) and no control characters: none of C0
(U+0000-U+001F), DEL (U+007F) or C1 (U+0080-U+009F). NUL cannot be stored in PostgreSQL text
at all, and the others end up raw in HTML, CSV and e-mail. Nor the bidirectional embedding,
override and isolate controls (U+202A-U+202E, U+2066-U+2069): they reorder how the rest of a
page or a CSV cell is displayed (a payment reference or a name shown other than it is stored,
as in "Trojan Source"). The left-to-right and right-to-left marks (U+200E, U+200F), which
right-to-left names may need, are accepted.

Multi-line fields (descriptions of work and expenses, questions, answers and reasons) also
accept tab, line feed and carriage return (browsers send a textarea's line breaks as CRLF).
Every other field (names, e-mail addresses, references, identifiers, URLs) is a single line.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import marshmallow as ma

from shared.messages import N_

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_FORBIDDEN_IN_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_BIDI_CONTROLS}]")
_FORBIDDEN_IN_MULTILINE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_BIDI_CONTROLS}]"
)
_LAYOUT = "\t\n\r"


def text_fault(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is not text the product accepts (one message naming the first bad
    character and where it is), or None if it is."""
    forbidden = _FORBIDDEN_IN_MULTILINE if multiline else _FORBIDDEN_IN_LINE
    found = forbidden.search(value)
    if found is None:
        return None
    char = found.group()
    code = f"{ord(char):04X}"
    where = N_("U+%(code)s at character %(position)s", code=code, position=found.start() + 1)
    if "\ud800" <= char <= "\udfff":
        return N_(
            "must be Unicode text: a lone surrogate (%(where)s) is not a character", where=where
        )
    if char in _LAYOUT:
        return N_("must be a single line: no line breaks or tabs (%(where)s)", where=where)
    if "\u202a" <= char <= "\u2069":
        return N_("must not contain bidirectional override characters (%(where)s)", where=where)
    return N_("must not contain control characters (%(where)s)", where=where)


class PlainText(ma.validate.Validator):
    """A marshmallow validator applying `text_fault` to a string field."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            fault = text_fault(value, multiline=self.multiline)
            if fault is not None:
                raise ma.ValidationError(fault)
        return value


ONE_LINE = PlainText()
MULTILINE = PlainText(multiline=True)


def latin(text: str) -> str:
    """Text the standard PDF fonts can show: accents dropped where Windows-1252 has no such
    letter (ŵ → w), anything else unknown shown as ?."""
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    shown = []
    for char in text:
        try:
            char.encode("cp1252")
            shown.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("cp1252", "ignore").decode("cp1252")
            shown.append(base or "?")
    return "".join(shown)


_UNDISPLAYABLE = _FORBIDDEN_IN_MULTILINE
REPLACEMENT = "\ufffd"


def displayable(value: str) -> str:
    """``value`` with every character the product does not accept, other than line breaks and
    tabs, shown as U+FFFD. For text stored before these rules existed (a lone surrogate or a
    NUL already in a store): pages, CSV, PDF and JSON answers render it instead of failing."""
    if _UNDISPLAYABLE.search(value) is None:
        return value
    return _UNDISPLAYABLE.sub(REPLACEMENT, value)


# The bytes of a JSON text (UTF-8) that decode to characters `displayable` leaves alone: the
# printable ASCII characters it accepts, and the escapes after a backslash that stand for one.
_DISPLAYABLE_ASCII = bytes(
    c for c in range(0x20, 0x7F) if c != ord("\\") and _UNDISPLAYABLE.search(chr(c)) is None
)
_DISPLAYABLE_ESCAPES = bytes(
    c
    for c, char in zip(b'"\\/bfnrt', '"\\/\b\f\n\r\t', strict=True)
    if _UNDISPLAYABLE.search(char) is None
)
_DISPLAYABLE_ESCAPE = re.compile(b"\\\\[" + re.escape(_DISPLAYABLE_ESCAPES) + b"]")


def displayable_json(body: bytes) -> bool:
    """True when every string the JSON text `body` can decode to is already displayable, so
    `displayable_all` of what it decodes to changes nothing: printable ASCII only, with no
    escape of another character (``\\u…``, ``\\b``). False says nothing (look at the values)."""
    if body.translate(None, _DISPLAYABLE_ASCII).strip(b"\\"):
        return False
    # Escapes read left to right, as JSON reads them: a backslash left is another escape.
    return b"\\" not in body or b"\\" not in _DISPLAYABLE_ESCAPE.sub(b"", body)


def displayable_all(value: Any) -> Any:
    """`displayable` applied to every string inside lists, tuples and dict values and keys."""
    if isinstance(value, str):
        return displayable(value)
    if isinstance(value, dict):
        return {displayable_all(k): displayable_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [displayable_all(v) for v in value]
    return value
