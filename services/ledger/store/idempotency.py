"""Idempotency keys: a retried request gets the first response instead of acting twice.

Protocol, per request carrying an `Idempotency-Key`, all inside the command's own unit of work
(one transaction; the key is looked at before the command takes its locks):
1. `begin(uow, scope, key, request_hash)` first takes a transaction-scoped lock on the key
   (PostgreSQL: `pg_try_advisory_xact_lock` on the key's hash, refused at once if another
   transaction holds it; SQLite: the single writer lock the unit of work holds), then
   reads the key's record. `Started` -> run the command; `Replay` -> answer the stored
   response; `Mismatch` -> 422 (the key was used for a different request); `InFlight` -> 409
   (a concurrent request holds the key right now).
2. `complete(uow, ...)` writes the record, state done with the response, in the same
   transaction as the events: either both are stored or neither.

Nothing is written before the command runs, so there is no lease: a command that fails, or a
process that dies before commit, leaves no record, and the retry runs at once (never waits for
a lease to run out). Rows "in flight" with a lease are only left by the previous protocol; a
`begin` takes them over and `complete` overwrites them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, select

from services.ledger.store.engine import begin_write, insert_for
from services.ledger.store.event_store import UnitOfWork
from services.ledger.store.tables import (
    IDEMPOTENCY_DONE,
    IDEMPOTENCY_IN_FLIGHT,
    idempotency_keys,
)
from shared import clock as product_clock


@dataclass(frozen=True)
class Started:
    """The key is ours: run the command. `taken_over` if a record of the previous protocol,
    left in flight, is being replaced."""

    taken_over: bool = False


@dataclass(frozen=True)
class Replay:
    """The same request already completed: answer with its response."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Mismatch:
    """The key was used for a different request (another hash)."""


@dataclass(frozen=True)
class InFlight:
    """Another transaction holds the key right now (a concurrent duplicate)."""


Begin = Started | Replay | Mismatch | InFlight


class IdempotencyConflict(Exception):
    """`complete` found the key already completed (by another request)."""


def idempotency_scope(principal: str, method: str, path: str) -> str:
    """The scope a key is unique within: who asked, and for which operation."""
    return f"{principal} {method.upper()} {path}"


def key_lock_id(scope: str, key: str) -> int:
    """The signed 64-bit advisory lock id of a key (PostgreSQL)."""
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _utc_now() -> datetime:
    # When a record was made: the host's real clock, which every worker shares.
    return product_clock.real_now()


# Built once (building a statement per request cost more than running it): the key's lock, its
# record, and the completing upsert per dialect.
_TRY_LOCK = select(func.pg_try_advisory_xact_lock(bindparam("lock_id")))
_RECORD = select(idempotency_keys).where(
    idempotency_keys.c.scope == bindparam("scope"), idempotency_keys.c.key == bindparam("key")
)
_DONE_COLUMNS = (
    "request_hash",
    "state",
    "response_status",
    "response_headers",
    "response_body",
    "locked_until",
    "completed_at",
)
_COMPLETE: dict[str, Any] = {}


def _complete_statement(connection: Connection) -> Any:
    name = connection.dialect.name
    statement = _COMPLETE.get(name)
    if statement is None:
        insert = insert_for(connection, idempotency_keys)
        statement = insert.on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={column: insert.excluded[column] for column in _DONE_COLUMNS},
            where=idempotency_keys.c.state == IDEMPOTENCY_IN_FLIGHT,
        ).returning(idempotency_keys.c.scope)
        _COMPLETE[name] = statement
    return statement


class IdempotencyStore:
    """Idempotency records in the ledger database."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def begin(self, uow: UnitOfWork, scope: str, key: str, request_hash: str) -> Begin:
        """Take `key` for this transaction, or say why not (see the module docstring). Runs
        before the command's own locks (it waits for none and decides nothing of the log)."""
        connection = uow.connection_before_locks
        if connection.dialect.name == "postgresql":
            held = connection.execute(_TRY_LOCK, {"lock_id": key_lock_id(scope, key)}).scalar_one()
            if not held:
                return InFlight()
        row = connection.execute(_RECORD, {"scope": scope, "key": key}).first()
        if row is None:
            return Started()
        if row.request_hash != request_hash:
            return Mismatch()
        if row.state == IDEMPOTENCY_DONE:
            return Replay(
                status=row.response_status,
                headers=dict(row.response_headers or {}),
                body=row.response_body,
            )
        return Started(taken_over=True)

    def complete(
        self,
        uow: UnitOfWork,
        scope: str,
        key: str,
        request_hash: str,
        status: int,
        headers: Mapping[str, str],
        body: Any,
    ) -> None:
        """Record the response in the command's unit of work (same transaction as its events).

        Raises `IdempotencyConflict` if the key is already completed.
        """
        now = self._clock()
        connection = uow.connection
        written = connection.execute(
            _complete_statement(connection),
            {
                "scope": scope,
                "key": key,
                "created_at": now,
                "request_hash": request_hash,
                "state": IDEMPOTENCY_DONE,
                "response_status": status,
                "response_headers": dict(headers),
                "response_body": body,
                "locked_until": None,
                "completed_at": now,
            },
        ).first()
        if written is None:
            raise IdempotencyConflict(f"idempotency key {key!r} in {scope!r} is already done")

    def purge_completed_before(self, instant: datetime) -> int:
        """Forget responses completed before `instant` (keys are retried for a bounded time)."""
        with begin_write(self._engine) as connection:
            result = connection.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.state == IDEMPOTENCY_DONE,
                    idempotency_keys.c.completed_at < instant,
                )
            )
            return result.rowcount


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same" for an idempotency key: method, path and the JSON
    body, whatever its key order or whitespace."""
    canonical = json.dumps(
        {"method": method, "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
