"""The data keys that seal personal fields (shared/events/personal.py), one per subject.

A `DataKeys` lives as long as one transaction or one read: it loads each key at most once
(sealing a claim's events in a command costs one lookup, then microseconds per field) and
never outlives the connection, so a key destroyed by an erasure is never served from a cache
in the ledger.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from shared.events import personal
from shared.events.envelope import NewEvent, StoredEvent

from .tables import data_keys

_CHUNK = 500


class SubjectErased(Exception):
    """The subject's personal data was erased: it takes no new personal text."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"the personal data of {subject} was erased")
        self.subject = subject


_INSERT_KEY = insert(data_keys)


class DataKeys:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._keys: dict[str, bytes | None] = {}
        self._known: set[str] = set()  # subjects with a row (erased ones have key None)

    def load(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """Each subject's key (None: erased, or never had one), one query per 500 missing."""
        wanted = list(dict.fromkeys(subjects))
        missing = [s for s in wanted if s not in self._keys]
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            rows = self._connection.execute(
                select(data_keys.c.subject, data_keys.c.key).where(data_keys.c.subject.in_(chunk))
            ).all()
            for subject in chunk:
                self._keys[subject] = None
            for row in rows:
                self._keys[row.subject] = row.key
                self._known.add(row.subject)
        return {s: self._keys[s] for s in wanted}

    def new_subjects(self, subjects: Iterable[str]) -> None:
        """Subjects this transaction has just made up (a new claim's id): they have no key yet,
        so sealing makes one without looking first. Were one there after all, its INSERT
        would fail on the primary key: a key is never replaced."""
        for subject in subjects:
            self._keys.setdefault(subject, None)

    def for_sealing(self, subject: str, now: datetime) -> bytes:
        """The subject's live key, made (in this transaction) on first use."""
        key = self.load([subject])[subject]
        if key is not None:
            return key
        if subject in self._known:
            raise SubjectErased(subject)
        key = personal.new_key()
        self._connection.execute(_INSERT_KEY, {"subject": subject, "key": key, "created_at": now})
        self._keys[subject] = key
        self._known.add(subject)
        return key

    def seal(self, event: NewEvent, now: datetime) -> NewEvent:
        """The event with its personal fields sealed under its subject's key."""
        subject = personal.subject_of(event.type, event.data)
        if subject is None or next(personal.personal_values(event.type, event.data), None) is None:
            return event  # nothing personal in it (an approval without a reason)
        key = self.for_sealing(subject, now)
        return dataclasses.replace(event, data=personal.seal_data(event.type, event.data, key))

    def open(self, events: Sequence[StoredEvent]) -> list[StoredEvent]:
        """The events with their sealed fields opened ("erased" where the key is gone)."""
        needed = [personal.needs_keys(e.type, e.data) for e in events]
        keys = self.load(s for s in needed if s is not None)
        return [
            event
            if subject is None
            else dataclasses.replace(event, data=personal.open_data(event.type, event.data, keys))
            for event, subject in zip(events, needed, strict=True)
        ]

    def destroy(self, subjects: Sequence[str], reason: str, now: datetime) -> None:
        """Erase: every subject's key is gone for good (a row stays, saying when and why)."""
        self.load(subjects)
        for subject in subjects:
            if subject in self._known:
                self._connection.execute(
                    update(data_keys)
                    .where(data_keys.c.subject == subject)
                    .values(key=None, erased_at=now, erased_reason=reason)
                )
            else:
                self._connection.execute(
                    insert(data_keys).values(
                        subject=subject,
                        key=None,
                        created_at=now,
                        erased_at=now,
                        erased_reason=reason,
                    )
                )
                self._known.add(subject)
            self._keys[subject] = None

    def erased(self, subjects: Iterable[str]) -> set[str]:
        """Which of these subjects were erased (have a row and no key)."""
        wanted = list(subjects)
        self.load(wanted)
        return {s for s in wanted if s in self._known and self._keys.get(s) is None}
