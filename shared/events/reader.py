"""A faster way through the catalogue's schemas for data that is plainly well-formed.

marshmallow spends most of its time on bookkeeping (error stores, hooks, a closure per
field), which is most of what the notifier pays to consume an event. `reader_for` derives,
from a schema's own declared fields, a function that reads the common case directly: exact
JSON types (a `str` for a string, an `int` that is not a `bool` for a strict integer, an ISO
date string…), no unknown keys, required keys present. It builds the event with the schema's
own `post_load`, so the result is the one `schema.load` gives.

It never refuses anything itself: whatever it is not sure of (a wrong type, a missing key,
an unknown key) raises `NotPlain`, and the caller lets the schema load the data, accepting it
or refusing it with marshmallow's precise errors. A schema with a field or hook the reader
does not mirror gets no reader at all. So the rules stay in the schemas (one place), and the
reader can be no more lenient than they are.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, fields, missing
from marshmallow.decorators import (
    POST_LOAD,
    PRE_LOAD,
    VALIDATES,
    VALIDATES_SCHEMA,
)

Reader = Callable[[Any], Any]


class NotPlain(Exception):
    """The reader is not sure of this data: let the schema decide."""


def reader_for(schema: Schema, build_hook: str = "_build") -> Reader | None:
    """The fast reader of `schema`'s data, or None when the schema uses anything the reader
    does not mirror (hooks other than the one `post_load` named `build_hook`, options)."""
    hooks = schema._hooks
    post_load = [name for name, *_ in hooks[POST_LOAD]]
    if (
        hooks[PRE_LOAD]
        or hooks[VALIDATES]
        or hooks[VALIDATES_SCHEMA]
        or post_load != [build_hook]
        or schema.many
        or schema.partial
        or schema.unknown != RAISE
        or schema.only is not None
        or schema.exclude
        or schema.load_only
        or schema.dump_only
        or len(schema.load_fields) != len(schema.fields)
    ):
        return None
    build: Callable[[dict[str, Any]], Any] = getattr(schema, build_hook)
    readers: list[tuple[str, Reader, bool, Any]] = []
    for name, field in schema.load_fields.items():
        if field.data_key is not None or field.attribute is not None:
            return None
        value_reader = _value_reader(field)
        if value_reader is None:
            return None
        readers.append((name, value_reader, field.required, field.load_default))
    names = frozenset(name for name, *_ in readers)

    def read(data: Any) -> Any:
        if type(data) is not dict or not names.issuperset(data):
            raise NotPlain  # not an object, or an unknown key: the schema names it
        values: dict[str, Any] = {}
        for name, value_reader, required, default in readers:
            value = data.get(name, missing)
            if value is not missing:
                values[name] = value_reader(value)
            elif required:
                raise NotPlain
            elif default is not missing:
                values[name] = default() if callable(default) else default
        return build(values)

    return read


def _value_reader(field: fields.Field[Any]) -> Reader | None:
    """How to read one field's value, with marshmallow's own semantics, or None."""
    if field.validators or field.pre_load or field.post_load:
        return None
    kind = type(field)
    inner: Reader | None
    if kind is fields.String:
        inner = _string
    elif kind is fields.Integer:
        if not field.strict:  # type: ignore[attr-defined]
            return None
        inner = _strict_integer
    elif kind is fields.Boolean:
        inner = _boolean
    elif kind is fields.Date:
        if field.format not in ("iso", "iso8601"):  # type: ignore[attr-defined]
            return None
        inner = _iso_date
    elif kind is fields.Decimal:
        if field.places is not None or field.allow_nan:  # type: ignore[attr-defined]
            return None
        inner = _decimal
    elif kind is fields.List:
        item = _value_reader(field.inner)  # type: ignore[attr-defined]
        if item is None:
            return None
        inner = _list_of(item)
    elif kind is fields.Nested:
        nested: fields.Nested = field  # type: ignore[assignment]
        if nested.many or nested.only is not None or nested.exclude or nested.unknown:
            return None
        inner = reader_for(nested.schema)
        if inner is None:
            return None
    else:
        return None  # a field of the project's own (the activities' rates): the schema reads it
    # None is none of the types the readers take, so only a field that allows it needs a test.
    return _or_none(inner) if field.allow_none else inner


def _or_none(inner: Reader) -> Reader:
    def read(value: Any) -> Any:
        return None if value is None else inner(value)

    return read


def _string(value: Any) -> str:
    if type(value) is not str:
        raise NotPlain
    return value


def _strict_integer(value: Any) -> int:
    if type(value) is not int:  # a bool is refused by the schema; other Integrals go there
        raise NotPlain
    return value


def _boolean(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise NotPlain  # "yes", 1…: the schema's truthy and falsy sets decide


def _iso_date(value: Any) -> date:
    if type(value) is str:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise NotPlain from None
    if type(value) is date:
        return value
    raise NotPlain


def _decimal(value: Any) -> decimal.Decimal:
    if type(value) is not str:
        raise NotPlain
    try:
        number = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise NotPlain from None
    if not number.is_finite():
        raise NotPlain
    return number


def _list_of(item: Reader) -> Reader:
    def read(value: Any) -> list[Any]:
        if type(value) is not list:
            raise NotPlain
        return [item(each) for each in value]

    return read
