"""Idempotency keys: a retried request gets the first response instead of acting twice.

Protocol, per request carrying an `Idempotency-Key`:
1. `begin(scope, key, request_hash)` in its own short transaction claims the key for a lease.
   `Started` → run the command; `Replay` → answer the stored response; `Mismatch` → 422 (the key
   was used for a different request); `InFlight` → 409 (the first request is still running).
2. The command's unit of work calls `complete(uow, ...)`, so the response is recorded in the same
   transaction as the events: either both are stored or neither.
3. If the command fails and should not be cached, `abandon(scope, key)` frees the key.

A lease that expires (the first request crashed) may be taken over. If the first request was only
slow, both run, but `complete` accepts only the first: the second finds the key done, raises
`IdempotencyConflict`, and its unit of work rolls back; calling `begin` again gives the `Replay`.
That holds because completion happens under the event store's writer lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select, update

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
    """The key is ours: run the command. `taken_over` if a crashed request's lease expired."""

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
    """Another request holds the key and its lease has not expired."""

    locked_until: datetime


Begin = Started | Replay | Mismatch | InFlight


class IdempotencyConflict(Exception):
    """`complete` found the key no longer in flight (completed by another request, or freed)."""


def idempotency_scope(principal: str, method: str, path: str) -> str:
    """The scope a key is unique within: who asked, and for which operation."""
    return f"{principal} {method.upper()} {path}"


def _utc_now() -> datetime:
    # Leases between requests (and workers) are real time on the host clock they share.
    return product_clock.real_now()


class IdempotencyStore:
    """Idempotency records in the ledger database."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def begin(self, scope: str, key: str, request_hash: str, lease_seconds: float = 30) -> Begin:
        """Claim `key` for this request, or say why not (see the module docstring)."""
        now = self._clock()
        lease_end = now + timedelta(seconds=lease_seconds)
        where = (idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        with begin_write(self._engine) as connection:
            # Loop only if the row we collided with is deleted (abandoned) before we read it.
            while True:
                claimed = connection.execute(
                    insert_for(connection, idempotency_keys)
                    .values(
                        scope=scope,
                        key=key,
                        request_hash=request_hash,
                        state=IDEMPOTENCY_IN_FLIGHT,
                        created_at=now,
                        locked_until=lease_end,
                    )
                    .on_conflict_do_nothing(index_elements=["scope", "key"])
                    .returning(idempotency_keys.c.scope)
                ).first()
                if claimed is not None:
                    return Started()
                row = connection.execute(
                    select(idempotency_keys).where(*where).with_for_update()
                ).first()
                if row is not None:
                    break

            if row.request_hash != request_hash:
                return Mismatch()
            if row.state == IDEMPOTENCY_DONE:
                return Replay(
                    status=row.response_status,
                    headers=dict(row.response_headers or {}),
                    body=row.response_body,
                )
            if row.locked_until is not None and row.locked_until > now:
                return InFlight(locked_until=row.locked_until)
            connection.execute(
                update(idempotency_keys).where(*where).values(locked_until=lease_end)
            )
            return Started(taken_over=True)

    def complete(
        self,
        uow: UnitOfWork,
        scope: str,
        key: str,
        status: int,
        headers: Mapping[str, str],
        body: Any,
    ) -> None:
        """Record the response in the command's unit of work (same transaction as its events).

        Raises `IdempotencyConflict` if the key is not in flight any more.
        """
        result = uow.connection.execute(
            update(idempotency_keys)
            .where(
                idempotency_keys.c.scope == scope,
                idempotency_keys.c.key == key,
                idempotency_keys.c.state == IDEMPOTENCY_IN_FLIGHT,
            )
            .values(
                state=IDEMPOTENCY_DONE,
                response_status=status,
                response_headers=dict(headers),
                response_body=body,
                locked_until=None,
                completed_at=self._clock(),
            )
        )
        if result.rowcount != 1:
            raise IdempotencyConflict(f"idempotency key {key!r} in {scope!r} is not in flight")

    def abandon(self, scope: str, key: str) -> bool:
        """Free an in-flight key so the request may be retried; False if it was not in flight."""
        with begin_write(self._engine) as connection:
            result = connection.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.scope == scope,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.state == IDEMPOTENCY_IN_FLIGHT,
                )
            )
            return result.rowcount == 1

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
