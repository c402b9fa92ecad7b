"""The catalogue's fast reader (shared/events/reader.py) against the schemas it is derived from.

Whatever the reader accepts, the schema accepts with the same event (same types, not merely
equal values); whatever the schema refuses, the reader hands back to it (NotPlain); and
`from_data`, which tries the reader first, answers exactly what the schema alone answers,
events and error reasons alike.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, pre_load, validates_schema

from shared.events import catalogue
from shared.events.catalogue import SCHEMAS, MalformedEvent, from_data, to_data
from shared.events.reader import NotPlain, reader_for

from .test_catalogue import SAMPLES

# Values a hostile or careless producer might put anywhere.
HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**70,
    1.5,
    1.0,
    "",
    "x",
    "7",
    "2026-04-02",
    "2026-02-30",
    "20260402",
    "2026-W14-4",
    "2026-04-02T10:00:00",
    "3.5",
    " 3.5 ",
    "1_000",
    "NaN",
    "-Infinity",
    "sNaN",
    "1e999999999",
    [],
    ["x"],
    [1],
    [{}],
    {},
    {"claim_id": "c1"},
]


def strict(event_type: str, data: Any) -> tuple[str, Any]:
    """What the schema alone answers: ("event", repr) or ("refused", the reason)."""
    try:
        return "event", repr(SCHEMAS[(event_type, 1)].load(copy.deepcopy(data)))
    except ValidationError as error:
        return "refused", catalogue._describe(error.messages)


def answer(event_type: str, data: Any) -> tuple[str, Any]:
    """What `from_data` answers (the reader first, then the schema)."""
    try:
        return "event", repr(from_data(event_type, 1, copy.deepcopy(data)))
    except MalformedEvent as error:
        return "refused", error.reason


def fast(event_type: str, data: Any) -> tuple[str, Any]:
    reader = reader_for(SCHEMAS[(event_type, 1)])
    assert reader is not None
    try:
        return "event", repr(reader(copy.deepcopy(data)))
    except NotPlain:
        return "not plain", None


def variants(data: Any) -> Iterator[Any]:
    """`data` with one thing changed: a key dropped or added, a value replaced, at any depth."""
    if isinstance(data, dict):
        for key in data:
            yield {k: v for k, v in data.items() if k != key}
            for value in HOSTILE:
                yield {**data, key: value}
            for inner in variants(data[key]):
                yield {**data, key: inner}
        yield {**data, "unexpected": 1}
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield data[:index] + data[index + 1 :]
            for inner in variants(item):
                yield [*data[:index], inner, *data[index + 1 :]]
        for value in HOSTILE:
            yield [*data, value]


READ_FAST = sorted({type(e).__name__ for e in SAMPLES} - {"AgreementSigned", "AgreementAmended"})


def test_every_type_but_the_rate_cards_has_a_reader() -> None:
    # AgreementSigned and AgreementAmended hold a field of the catalogue's own (the activity
    # rates): the reader does not mirror it, so they are read by the schema alone.
    for (event_type, _), schema in SCHEMAS.items():
        assert (reader_for(schema) is not None) == (event_type in READ_FAST), event_type


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_the_samples_read_fast_and_alike(event: Any) -> None:
    event_type, _, data = to_data(event)
    wire = json.loads(json.dumps(data))
    assert strict(event_type, wire) == answer(event_type, wire) == ("event", repr(event))
    if event_type in READ_FAST:
        assert fast(event_type, wire) == ("event", repr(event))


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_variant_answers_as_the_schema_does(event: Any) -> None:
    event_type, _, data = to_data(event)
    wire = json.loads(json.dumps(data))
    outcomes = {"event": 0, "not plain": 0}
    for variant in variants(wire):
        expected = strict(event_type, variant)
        assert answer(event_type, variant) == expected, variant
        if event_type in READ_FAST:
            kind, result = fast(event_type, variant)
            outcomes[kind] += 1
            if kind == "event":
                assert expected == ("event", result), variant
            elif expected[0] == "event":
                pass  # not plain to the reader (a datetime for a date…): the schema reads it
    if event_type in READ_FAST:
        assert outcomes["event"] and outcomes["not plain"]  # both paths were exercised


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([e for e in SAMPLES if type(e).__name__ in READ_FAST]),
    st.data(),
)
def test_arbitrary_json_in_any_field_answers_as_the_schema_does(event: Any, data: Any) -> None:
    event_type, _, payload = to_data(event)
    wire = json.loads(json.dumps(payload))
    key = data.draw(st.sampled_from(sorted(wire)))
    wire[key] = data.draw(JSON)
    expected = strict(event_type, wire)
    assert answer(event_type, wire) == expected
    kind, result = fast(event_type, wire)
    if kind == "event":
        assert expected == ("event", result)


@dataclass(frozen=True)
class Named:
    name: str


def test_a_schema_with_rules_the_reader_does_not_mirror_gets_no_reader() -> None:
    class Simple(catalogue._Builds):
        builds = Named
        name = fields.String(required=True)

    class Tidied(Simple):
        @pre_load
        def _tidy(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return data

    class Checked(Simple):
        @validates_schema
        def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
            pass

    class Validated(catalogue._Builds):
        builds = Named
        name = fields.String(required=True, validate=lambda value: value != "x")

    class Unbuilt(Schema):
        name = fields.String(required=True)

    reader = reader_for(Simple())
    assert reader is not None and reader({"name": "n"}) == Named("n")
    for schema in (Tidied(), Checked(), Validated(), Unbuilt()):
        assert reader_for(schema) is None, schema
