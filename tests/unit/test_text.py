"""The text the product accepts (shared/text.py): bidirectional controls."""

from __future__ import annotations

import pytest

from shared.text import text_fault


@pytest.mark.parametrize(
    "char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"]
)
@pytest.mark.parametrize("multiline", [False, True])
def test_bidirectional_embeddings_overrides_and_isolates_are_refused(
    char: str, multiline: bool
) -> None:
    assert text_fault(f"BACS {char}42", multiline=multiline) == (
        f"must not contain bidirectional override characters (U+{ord(char):04X} at character 6)"
    )


@pytest.mark.parametrize(
    "text", ["\u05e9\u05e8\u05d4 \u200fCohen", "Amina \u200eKhan", "\u0645\u0631\u064a\u0645"]
)
def test_right_to_left_text_and_direction_marks_are_accepted(text: str) -> None:
    assert text_fault(text) is None
