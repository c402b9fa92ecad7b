"""One publisher per database: the relay that holds the leadership publishes, the others wait.

PostgreSQL: a session-level `pg_try_advisory_lock` taken on a connection kept for as long as the
relay publishes. If that session dies the lock goes with it, and because the relay records its
progress on the same connection, a relay that lost its session cannot record anything either.

SQLite: a lease row (`relay_leases`: owner, expires_at) taken in a write transaction, renewed
while the relay publishes, and taken over by another relay once it has expired. Progress is
recorded in the same transaction that checks the lease is still ours (a fenced write).

Either way a relay that lost the leadership while publishing (a stale one) can at worst publish a
few events again: the feed's order and the recorded position stay right.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from services.ledger.store.engine import begin_write
from services.ledger.store.event_store import set_relay_position
from services.ledger.store.tables import relay_leases
from shared import clock as product_clock

# "brly" in ASCII: the first key of the relay's advisory lock; the second is the relay's name.
RELAY_LOCK_CLASS = 0x62726C79


class LeadershipLost(Exception):
    """This relay no longer holds the leadership: stop publishing and wait to take it again."""


class Leadership(Protocol):
    """The single-publisher lock as the relay uses it."""

    owner: str

    def try_acquire(self) -> bool:
        """Take the leadership if nobody holds it; True if this relay now holds it."""
        ...

    def confirm(self) -> None:
        """Check (and renew) the leadership; raises `LeadershipLost` if it is gone."""
        ...

    def record(self, position: int) -> None:
        """Record the published position, only if the leadership is still held."""
        ...

    def release(self) -> None:
        """Give the leadership up (a no-op if it is not held)."""
        ...


def new_owner_id() -> str:
    """Who this relay is, for logs and the lease row: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def leadership_for(
    engine: Engine, name: str, owner: str | None = None, *, lease_seconds: float = 15.0
) -> Leadership:
    """The right single-publisher lock for the engine's database."""
    owner = owner or new_owner_id()
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, name, owner)
    return Lease(engine, name, owner, lease_seconds=lease_seconds)


class AdvisoryLock:
    """PostgreSQL: a session-level advisory lock on a dedicated connection."""

    def __init__(self, engine: Engine, name: str, owner: str) -> None:
        self.engine = engine
        self.name = name
        self.owner = owner
        self.key = (RELAY_LOCK_CLASS, _int4(zlib.crc32(name.encode("utf-8"))))
        self._connection: Connection | None = None
        self._held = False

    def try_acquire(self) -> bool:
        try:
            connection = self._connection or self.engine.connect()
            self._connection = connection
            held = connection.execute(
                text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": self.key[0], "b": self.key[1]}
            ).scalar_one()
            connection.commit()
        except DBAPIError:
            self._discard()
            raise
        self._held = bool(held)
        return self._held

    def confirm(self) -> None:
        if not self._held or self._connection is None:
            raise LeadershipLost("the advisory lock is not held")
        try:
            still = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND objsubid = 2"
                    " AND classid::bigint = :a AND objid::bigint = :b"
                ),
                {"a": self.key[0], "b": self.key[1] & 0xFFFFFFFF},
            ).scalar_one()
            self._connection.commit()
        except DBAPIError as error:
            self._discard()
            raise LeadershipLost(f"the lock's session failed: {error.orig}") from error
        if not still:
            self._discard()
            raise LeadershipLost("the advisory lock was lost")

    def record(self, position: int) -> None:
        if not self._held or self._connection is None:
            raise LeadershipLost("the advisory lock is not held")
        try:
            with self._connection.begin():
                set_relay_position(self._connection, self.name, position)
        except DBAPIError as error:
            self._discard()
            raise LeadershipLost(f"the lock's session failed: {error.orig}") from error

    def release(self) -> None:
        if self._connection is not None and self._held:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:a, :b)"), {"a": self.key[0], "b": self.key[1]}
                )
                self._connection.commit()
            except DBAPIError:
                pass  # closing the session below releases it anyway
        self._discard()

    def _discard(self) -> None:
        """Forget the session. It is closed, not returned to the pool: a pooled session would
        keep holding the lock if it were still alive."""
        self._held = False
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.invalidate()
                connection.close()
            except DBAPIError:
                pass


class Lease:
    """SQLite: a lease row renewed while publishing; an expired lease can be taken over."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        owner: str,
        *,
        lease_seconds: float = 15.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.engine = engine
        self.name = name
        self.owner = owner
        self.lease_seconds = lease_seconds
        # A lease between relays is real time on the host clock they share, not product time.
        self._clock = clock or product_clock.real_now
        self._held = False
        self._renewed_at = 0.0  # monotonic

    def try_acquire(self) -> bool:
        now = self._clock()
        with begin_write(self.engine) as connection:
            row = connection.execute(
                select(relay_leases.c.owner, relay_leases.c.expires_at).where(
                    relay_leases.c.name == self.name
                )
            ).first()
            if row is None:
                connection.execute(
                    insert(relay_leases).values(
                        name=self.name,
                        owner=self.owner,
                        acquired_at=now,
                        expires_at=self._expiry(now),
                    )
                )
            elif row.owner == self.owner or row.expires_at <= now:
                connection.execute(
                    update(relay_leases)
                    .where(relay_leases.c.name == self.name)
                    .values(owner=self.owner, acquired_at=now, expires_at=self._expiry(now))
                )
            else:
                self._held = False
                return False
        self._held = True
        self._renewed_at = time.monotonic()
        return True

    def confirm(self) -> None:
        if not self._held:
            raise LeadershipLost("the lease is not held")
        # Renew when a third of the lease has gone: often enough, without a write every loop.
        if time.monotonic() - self._renewed_at < self.lease_seconds / 3:
            return
        with begin_write(self.engine) as connection:
            self._renew(connection)

    def record(self, position: int) -> None:
        if not self._held:
            raise LeadershipLost("the lease is not held")
        with begin_write(self.engine) as connection:
            self._renew(connection)
            set_relay_position(connection, self.name, position)

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        with begin_write(self.engine) as connection:
            connection.execute(
                delete(relay_leases).where(
                    relay_leases.c.name == self.name, relay_leases.c.owner == self.owner
                )
            )

    def _renew(self, connection: Connection) -> None:
        renewed = connection.execute(
            update(relay_leases)
            .where(relay_leases.c.name == self.name, relay_leases.c.owner == self.owner)
            .values(expires_at=self._expiry(self._clock()))
        ).rowcount
        if renewed != 1:
            self._held = False
            raise LeadershipLost("the lease was taken over by another relay")
        self._renewed_at = time.monotonic()

    def _expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease_seconds)


def _int4(value: int) -> int:
    """An unsigned 32-bit value as PostgreSQL's signed int4."""
    return value - (1 << 32) if value >= (1 << 31) else value
