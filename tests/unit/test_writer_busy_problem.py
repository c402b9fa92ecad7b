"""A lock not granted in time (`WriterBusy`) is answered as a retryable 503, not a 500."""

from __future__ import annotations

from services.ledger.api.errors import problem_for
from services.ledger.store import WriterBusy


def test_writer_busy_is_a_503_with_retry_after() -> None:
    problem = problem_for(WriterBusy("lock timeout"))
    assert problem is not None
    assert problem.status == 503
    assert problem.headers["Retry-After"] == "1"
