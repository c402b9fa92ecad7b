"""Reading raw input (JSON values or already-parsed ones) into domain values, collecting
every problem with its field path instead of stopping at the first."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared.hours import parse_hours
from shared.messages import N_, Message
from shared.money import format_pence
from shared.text import text_fault

from .errors import ValidationFailed

TEXT_MAX = 500
NAME_MAX = 200
REASON_MAX = 2000
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# £10 billion: far above any real figure, far below a 64-bit column's limit.
MAX_PENCE = 1_000_000_000_000


class Problems:
    """Collects field errors; ``raise_if_any`` turns them into one ValidationFailed."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)

    # ---- readers: each returns the value, or None after recording why it is unusable ----

    def text(
        self,
        value: object,
        path: str,
        *,
        max_length: int = TEXT_MAX,
        required: bool = True,
        multiline: bool = False,
    ) -> str | None:
        """Trimmed text the product accepts (shared/text.py: no lone surrogates, no control
        characters; tab and line breaks only where ``multiline``); empty counts as missing."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(path, N_("is required"))
            return None
        if not isinstance(value, str):
            self.add(path, N_("must be text"))
            return None
        text = value.strip()
        if len(text) > max_length:
            self.add(path, N_("must be at most %(n)s characters", n=max_length))
            return None
        fault = text_fault(text, multiline=multiline)
        if fault is not None:
            self.add(path, fault)
            return None
        return text

    def choice(self, value: object, path: str, options: Collection[str]) -> str | None:
        if value is None:
            self.add(path, N_("is required"))
            return None
        if not isinstance(value, str) or value not in options:
            self.add(path, N_("must be one of: %(options)s", options=", ".join(options)))
            return None
        return value

    def pence(
        self, value: object, path: str, *, required: bool = True, minimum: int = 1
    ) -> int | None:
        """A whole number of pence (not a bool, a float or a numeric string)."""
        if value is None:
            if required:
                self.add(path, N_("is required"))
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, N_("must be a whole number of pence"))
            return None
        if value < minimum:
            self.add(
                path,
                N_("must be positive")
                if minimum == 1
                else N_("must be at least %(n)s pence", n=minimum),
            )
            return None
        if value > MAX_PENCE:
            self.add(path, N_("must be at most %(n)s", n=format_pence(MAX_PENCE)))
            return None
        return value

    def whole_number(
        self, value: object, path: str, *, minimum: int, maximum: int, rule: str | None = None
    ) -> int | None:
        if value is None:
            self.add(path, N_("is required"))
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, N_("must be a whole number"))
            return None
        if not minimum <= value <= maximum:
            self.add(path, rule or N_("must be between %(a)s and %(b)s", a=minimum, b=maximum))
            return None
        return value

    def day(self, value: object, path: str) -> date | None:
        """A date, or an ISO ``YYYY-MM-DD`` string."""
        if value is None:
            self.add(path, N_("is required"))
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.add(path, N_("must be a date (YYYY-MM-DD)"))
        return None

    def hours(self, value: object, path: str) -> Decimal | None:
        if value is None:
            self.add(path, N_("is required"))
            return None
        try:
            return parse_hours(value)
        except ValueError as error:
            self.add(path, str(error))
            return None

    def mapping(self, value: object, path: str, allowed: Iterable[str]) -> Mapping[str, Any] | None:
        """A JSON object with no keys other than ``allowed``."""
        if not isinstance(value, Mapping):
            self.add(path, N_("must be an object"))
            return None
        known = set(allowed)
        for key in value:
            if key not in known:
                self.add(_join(path, str(key)), "unknown field")
        return value

    def items(
        self, value: object, path: str, *, minimum: int, maximum: int, noun: str
    ) -> Sequence[object]:
        """A JSON array of ``minimum``..``maximum`` items (empty list after an error)."""
        if value is None:
            value = []
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            self.add(path, N_("must be a list"))
            return []
        if len(value) < minimum:
            self.add(
                path,
                N_("at least one %(noun)s is required", noun=_noun(noun))
                if minimum == 1
                else N_("at least %(n)s %(noun)ss are required", n=minimum, noun=_noun(noun)),
            )
        if len(value) > maximum:
            self.add(path, N_("at most %(n)s %(noun)ss are allowed", n=maximum, noun=_noun(noun)))
            return []
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# The nouns `items` counts, for the catalogue (each is translated where the message is shown).
NOUNS = (
    N_("allocation"),
    N_("expense"),
    N_("line"),
    N_("organisation"),
    N_("receipt"),
    N_("reminder"),
    N_("role"),
)


def _noun(noun: str) -> Message:
    """The noun as a message of its own, so a Welsh page shows it in Welsh too."""
    return Message(noun)
