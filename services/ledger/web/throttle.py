"""Failed sign-ins, counted per (email, address) in a sliding window.

Kept in the process's memory: nothing to migrate and nothing to clean up, at the price that
each gunicorn worker counts on its own (with N workers a guesser gets at most N times the
limit per window before every worker refuses) and a restart forgets. Argon2's cost bounds
guessing either way; a shared store (a table, Redis) would make the limit exact.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SignInThrottle:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._now = now
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        cutoff = self._now() - self.window_seconds
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def blocked(self, email: str, address: str) -> bool:
        """True once `max_failures` failures fell inside the window."""
        with self._lock:
            return len(self._recent((email, address))) >= self.max_failures

    def retry_after(self, email: str, address: str) -> int:
        """Seconds until the oldest counted failure leaves the window."""
        with self._lock:
            failures = self._recent((email, address))
            if not failures:
                return 0
            return max(1, int(failures[0] + self.window_seconds - self._now()) + 1)

    def failed(self, email: str, address: str) -> None:
        with self._lock:
            key = (email, address)
            self._recent(key)
            self._failures.setdefault(key, deque()).append(self._now())
            if len(self._failures) > 100_000:  # a flood of made-up emails: forget the oldest
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, email: str, address: str) -> None:
        with self._lock:
            self._failures.pop((email, address), None)
