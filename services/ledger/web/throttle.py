"""Failed sign-ins, counted per (email, address) in a sliding window, in the ledger's database.

Every gunicorn worker and every ledger process on one database shares the count (table
`sign_in_failures`), so N workers do not give a guesser N times the limit, and a restart does
not forget. A row holds a digest of the (email, address) pair, never the email, and rows leave
the table once they fall out of the window. Time comes from the ledger's clock.

Attempts running at the same instant in several workers may each pass the check before any of
them records its failure: the overshoot is bounded by how many requests run at once, not by
the number of workers times the limit.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from ..store.access_tables import sign_in_failures


def _key(email: str, address: str) -> str:
    return hashlib.sha256(f"{email}\0{address}".encode()).hexdigest()


class SignInThrottle:
    def __init__(
        self,
        engine: Engine,
        max_failures: int,
        window_seconds: float,
        *,
        now: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self._now = now

    def _oldest_and_count(self, email: str, address: str) -> tuple[datetime | None, int]:
        cutoff = self._now() - self.window
        with self.engine.connect() as connection:
            row = connection.execute(
                select(func.min(sign_in_failures.c.failed_at), func.count()).where(
                    sign_in_failures.c.key == _key(email, address),
                    sign_in_failures.c.failed_at > cutoff,
                )
            ).one()
        oldest = row[0]
        if oldest is not None and oldest.tzinfo is None:  # SQLite's min() bypasses the type
            oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=cutoff.tzinfo)
        return oldest, int(row[1])

    def blocked(self, email: str, address: str) -> bool:
        """True once `max_failures` failures fell inside the window."""
        return self._oldest_and_count(email, address)[1] >= self.max_failures

    def retry_after(self, email: str, address: str) -> int:
        """Seconds until the oldest counted failure leaves the window."""
        oldest, _ = self._oldest_and_count(email, address)
        if oldest is None:
            return 0
        left = (oldest + self.window - self._now()).total_seconds()
        return max(1, math.ceil(left))

    def failed(self, email: str, address: str) -> None:
        now = self._now()
        with self.engine.begin() as connection:
            connection.execute(
                delete(sign_in_failures).where(sign_in_failures.c.failed_at <= now - self.window)
            )
            connection.execute(
                insert(sign_in_failures).values(key=_key(email, address), failed_at=now)
            )

    def succeeded(self, email: str, address: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(sign_in_failures).where(sign_in_failures.c.key == _key(email, address))
            )
