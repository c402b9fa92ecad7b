"""The data keys the notifier opens sealed personal fields with (shared/events/personal.py).

The topic carries personal fields sealed; the notifier asks the ledger for the subjects' keys
(`POST /internal/v1/data-keys`, a token for the notifier's service id signed with the key both
services share), once per batch for the subjects it has not seen, and keeps at most
`BRIDGES_NOTIFIER_KEY_CACHE_SIZE` of them in memory (least recently used go first; never on
disk). An erased subject's key comes back null and its fields open to "erased"; the erasure
event also drops any copy cached here. For a single-machine installation or a test,
`BRIDGES_NOTIFIER_KEYS_URL` may instead be the ledger's database URL (read-only use of its
`data_keys` table).
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import requests
from sqlalchemy import Engine, bindparam, text

from shared.events import personal
from shared.logging import get_logger
from shared.sql import make_engine
from shared.tokens import NOTIFIER_SERVICE_ID, issue_token

log = get_logger("notifier.keys")

DEFAULT_CACHE_SIZE = 10_000
_CHUNK = 500


class KeysUnavailable(Exception):
    """The ledger did not hand over the keys: the batch is retried, nothing is applied."""


class KeySource(Protocol):
    def fetch(self, subjects: list[str]) -> dict[str, bytes | None]: ...


class HttpKeySource:
    """Keys from the ledger's internal API."""

    def __init__(self, base_url: str, token_key: bytes, timeout: float = 10.0) -> None:
        self.url = base_url.rstrip("/") + "/internal/v1/data-keys"
        self._token_key = token_key
        self._timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment between two services

    def fetch(self, subjects: list[str]) -> dict[str, bytes | None]:
        found: dict[str, bytes | None] = {}
        for start in range(0, len(subjects), _CHUNK):
            chunk = subjects[start : start + _CHUNK]
            token = issue_token(NOTIFIER_SERVICE_ID, self._token_key)
            try:
                response = self._session.post(
                    self.url,
                    json={"subjects": chunk},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as error:
                raise KeysUnavailable(f"the ledger did not answer: {error}") from error
            if response.status_code != 200:
                raise KeysUnavailable(f"the ledger answered {response.status_code}")
            try:
                keys = response.json()["keys"]
                for subject in chunk:
                    value = keys.get(subject)
                    found[subject] = None if value is None else base64.b64decode(value)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise KeysUnavailable("the ledger's answer was not a key list") from error
        return found


class DatabaseKeySource:
    """Keys read from the ledger's own database (one machine, or tests)."""

    _QUERY = text("SELECT subject, key FROM data_keys WHERE subject IN :subjects").bindparams(
        bindparam("subjects", expanding=True)
    )

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def fetch(self, subjects: list[str]) -> dict[str, bytes | None]:
        found: dict[str, bytes | None] = dict.fromkeys(subjects)
        with self._engine.connect() as connection:
            for start in range(0, len(subjects), _CHUNK):
                rows = connection.execute(
                    self._QUERY, {"subjects": subjects[start : start + _CHUNK]}
                ).all()
                for subject, key in rows:
                    found[subject] = None if key is None else bytes(key)
        return found


def key_source(url: str, token_key: bytes) -> KeySource:
    """An HTTP(S) URL is the ledger's API; anything else, the ledger's database URL."""
    if url.startswith(("http://", "https://")):
        return HttpKeySource(url, token_key)
    return DatabaseKeySource(make_engine(url))


class KeyRing:
    """A bounded cache of data keys in front of a `KeySource`."""

    def __init__(self, source: KeySource, max_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._source = source
        self._max = max(1, max_size)
        self._keys: OrderedDict[str, bytes | None] = OrderedDict()

    def prefetch(self, subjects: Iterable[str]) -> None:
        """Fetch, in one request, the keys not cached (raises `KeysUnavailable`)."""
        missing = sorted({s for s in subjects if s not in self._keys})
        if missing:
            for subject, key in self._source.fetch(missing).items():
                self._remember(subject, key)

    def key(self, subject: str) -> bytes | None:
        if subject not in self._keys:
            self.prefetch([subject])
        self._keys.move_to_end(subject)
        return self._keys[subject]

    def open(self, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """The data with its sealed fields opened ("erased" where the key is gone)."""
        subject = personal.needs_keys(event_type, data)
        if subject is None:
            return dict(data)
        return personal.open_data(event_type, data, {subject: self.key(subject)})

    def erased(self, subjects: Iterable[str]) -> None:
        """The erasure event: these keys are gone (a cached copy too)."""
        for subject in subjects:
            self._remember(subject, None)

    def _remember(self, subject: str, key: bytes | None) -> None:
        self._keys[subject] = key
        self._keys.move_to_end(subject)
        while len(self._keys) > self._max:
            self._keys.popitem(last=False)

    def __len__(self) -> int:
        return len(self._keys)
