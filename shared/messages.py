"""Messages marked for the Welsh catalogue where they are made, translated where they are shown.

Framework-free on purpose (the standard library only): the ledger's domain marks its refusals
with `N_` and never imports Babel, Flask or any web code. `N_("is required")` is the msgid
itself; `N_("must be at most %(n)s characters", n=200)` is a `Message`: a str that reads as the
English with its values filled in (so logs, tests and JSON see plain text) and that keeps its
msgid and values, so an HTTP edge can say it in the request's language
(`shared.i18n.translate`).
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """English text that remembers its msgid and values."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, /, **values: Any) -> Message:
        self = super().__new__(cls, msgid % values if values else msgid)
        self.msgid = msgid
        self.values = values
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (and copies) as itself
        return (_rebuild, (self.msgid, self.values))


def _rebuild(msgid: str, values: dict[str, Any]) -> Message:
    return Message(msgid, **values)


def N_(message: str, /, **values: Any) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark `message` for the catalogue; with values, a `Message` to translate where shown."""
    return Message(message, **values) if values else message
