"""Personal fields inside events, sealed so that erasure needs no rewrite of history.

Every personal field of an event (a person's name and email; a claim's worker names, line and
expense descriptions, questions, answers and reasons) is stored, published and copied as a
*sealed* string: AES-256-GCM under a data key of its own *subject* (``person:<id>`` or
``claim:<id>``), with the subject as associated data so a sealed value cannot be moved to
another subject. The data keys live in the ledger's ``data_keys`` table, outside the log.
Erasure destroys a subject's key: every copy of its sealed values, in the event store, on the
Kafka topic and in anything replayed from them, then opens to ``ERASED``. Ids, amounts, dates,
hours and statuses are never sealed, so every figure survives an erasure unchanged.

A sealed value reads ``sealed:v1:<subject>:<base64url(nonce ‖ ciphertext ‖ tag)>``. Values
written before sealing existed are plain strings: they pass through `open_data` unchanged.
Pure: no I/O; the caller hands in the keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .catalogue import EventDecodeError

SEALED_PREFIX = "sealed:v1:"
#: What an erased personal field reads as, wherever it is shown.
ERASED = "erased"
KEY_BYTES = 32
_NONCE_BYTES = 12
_TOKEN = re.compile(r"sealed:v1:((?:person|claim):[0-9a-f-]{36}):")


@dataclass(frozen=True)
class PersonalFields:
    """Where an event type keeps personal text, and whose it is."""

    subject_kind: str  # person | claim
    id_field: str
    paths: tuple[str, ...]  # "name", or "lines[].worker" for a field of each list item


_CLAIM_LINES = ("lines[].worker", "lines[].description", "expenses[].description")

#: Event type → its personal fields. One place: sealing, opening, erasure and export use it.
PERSONAL_FIELDS: dict[str, PersonalFields] = {
    "PersonAdded": PersonalFields("person", "person_id", ("name", "email")),
    "ClaimSubmitted": PersonalFields("claim", "claim_id", _CLAIM_LINES),
    "ClaimAmended": PersonalFields("claim", "claim_id", _CLAIM_LINES),
    "ClaimQueried": PersonalFields("claim", "claim_id", ("question",)),
    "ClaimQueryAnswered": PersonalFields("claim", "claim_id", ("answer",)),
    "ClaimApproved": PersonalFields("claim", "claim_id", ("reason",)),
    "ClaimRejected": PersonalFields("claim", "claim_id", ("reason",)),
}


class SealError(EventDecodeError):
    """A sealed value that does not open with its subject's key (tampered, or misplaced)."""


def person_subject(person_id: str) -> str:
    return f"person:{person_id}"


def claim_subject(claim_id: str) -> str:
    return f"claim:{claim_id}"


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def subject_of(event_type: str, data: Mapping[str, Any]) -> str | None:
    """The subject whose key seals this event's personal fields (None: it has none)."""
    spec = PERSONAL_FIELDS.get(event_type)
    if spec is None:
        return None
    return f"{spec.subject_kind}:{data[spec.id_field]}"


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def seal_value(key: bytes | AESGCM, subject: str, plaintext: str) -> str:
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = cipher.encrypt(nonce, plaintext.encode("utf-8"), subject.encode("utf-8"))
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    return f"{SEALED_PREFIX}{subject}:{body}"


def open_value(key: bytes | AESGCM | None, subject: str, token: str) -> str:
    """The plaintext of a sealed value; `ERASED` when its key is gone (None)."""
    rest = token[len(SEALED_PREFIX) :]
    token_subject, _, body = rest.rpartition(":")
    if token_subject != subject:
        raise SealError(f"a value sealed for {token_subject!r} found in {subject!r}")
    if key is None:
        return ERASED
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        cipher = key if isinstance(key, AESGCM) else AESGCM(key)
        plain = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], subject.encode())
    except (InvalidTag, binascii.Error, ValueError) as error:
        raise SealError(f"a sealed value of {subject} does not open") from error
    return plain.decode("utf-8")


def _map(
    data: Mapping[str, Any], paths: tuple[str, ...], fn: Callable[[str], str]
) -> dict[str, Any]:
    """A copy of `data` with `fn` applied to every (non-null) string at `paths`."""
    out: dict[str, Any] = dict(data)
    for path in paths:
        if "[]." in path:
            list_name, _, field = path.partition("[].")
            items = out.get(list_name)
            if not isinstance(items, list):
                continue
            new_items = []
            for item in items:
                if isinstance(item, Mapping) and isinstance(item.get(field), str):
                    item = {**item, field: fn(item[field])}
                new_items.append(item)
            out[list_name] = new_items
        elif isinstance(out.get(path), str):
            out[path] = fn(out[path])
    return out


def personal_values(event_type: str, data: Mapping[str, Any]) -> Iterator[str]:
    """Every personal string of the event's data (sealed or not), in field order."""
    spec = PERSONAL_FIELDS.get(event_type)
    if spec is None:
        return
    found: list[str] = []

    def keep(value: str) -> str:
        found.append(value)
        return value

    _map(data, spec.paths, keep)
    yield from found


def seal_data(event_type: str, data: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """The event's data with every personal field sealed (a decided event is all plaintext:
    a value that merely looks sealed is sealed again, never trusted)."""
    spec = PERSONAL_FIELDS.get(event_type)
    if spec is None:
        return dict(data)
    subject = f"{spec.subject_kind}:{data[spec.id_field]}"
    cipher = AESGCM(key)  # once per event, not per field
    return _map(data, spec.paths, lambda value: seal_value(cipher, subject, value))


def seal_legacy_data(event_type: str, data: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """Seal the plaintext personal fields of data stored before sealing existed; values that
    already open with `key` stay as they are."""
    spec = PERSONAL_FIELDS.get(event_type)
    if spec is None:
        return dict(data)
    subject = f"{spec.subject_kind}:{data[spec.id_field]}"

    def seal(value: str) -> str:
        if is_sealed(value):
            try:
                open_value(key, subject, value)
                return value
            except SealError:
                pass
        return seal_value(key, subject, value)

    return _map(data, spec.paths, seal)


def open_data(
    event_type: str, data: Mapping[str, Any], keys: Mapping[str, bytes | None]
) -> dict[str, Any]:
    """The event's data with its sealed fields opened (`ERASED` where the key is gone)."""
    spec = PERSONAL_FIELDS.get(event_type)
    if spec is None:
        return dict(data)
    subject = f"{spec.subject_kind}:{data[spec.id_field]}"
    key = keys.get(subject)
    cipher = None if key is None else AESGCM(key)

    def open_(value: str) -> str:
        return open_value(cipher, subject, value) if is_sealed(value) else value

    return _map(data, spec.paths, open_)


def needs_keys(event_type: str, data: Mapping[str, Any]) -> str | None:
    """The subject whose key opening this event needs (None: nothing in it is sealed)."""
    spec = PERSONAL_FIELDS.get(event_type)
    if spec is None or not any(is_sealed(v) for v in personal_values(event_type, data)):
        return None
    return f"{spec.subject_kind}:{data[spec.id_field]}"


def sealed_subjects(raw: bytes | str) -> set[str]:
    """The subjects of the sealed values in a serialised body, found without parsing it."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return set(_TOKEN.findall(text))
