"""The text the product accepts (shared/text.py): bidirectional controls; displayable text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.text import displayable_all, displayable_json, text_fault


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


# -- displayable_json: when a received body's values need no walk through displayable_all ----

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@given(JSON_VALUES, st.booleans())
def test_a_body_said_displayable_decodes_to_what_displayable_all_leaves_alone(
    value: object, ascii_only: bool
) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    if displayable_json(body):
        decoded = json.loads(body)
        assert displayable_all(decoded) == decoded


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":"\\u0000"}',
        b'{"a":"\\ud800"}',
        b'{"a":"\\u202e42"}',
        b'{"a":"x\\by"}',
        b'{"a":"x\\fy"}',
        b'{"\\u0007":1}',
        b'{"a":"\x7f"}',
        b'{"a":"\x00"}',
        b'{"a":"\x1b[31m"}',
        '{"a":"\u202e"}'.encode(),
        '{"a":"caf\u00e9"}'.encode(),  # not undisplayable, but not plain ASCII either
        b'{"a":"\\\\\\u0000"}',
    ],
)
def test_bodies_that_may_hold_undisplayable_text_are_not_said_displayable(body: bytes) -> None:
    assert not displayable_json(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"claim_id":"c1","lines":[{"hours":"3.5","description":"Workshop"}],"n":8000}',
        b'{"reason":"line one\\nline two\\r\\n\\ttabbed \\"quoted\\" a\\\\b a\\/b"}',
        b"{}",
    ],
)
def test_plain_bodies_are_said_displayable(body: bytes) -> None:
    assert displayable_json(body)
    assert displayable_all(json.loads(body)) == json.loads(body)
