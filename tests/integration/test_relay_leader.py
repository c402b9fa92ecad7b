"""The relay's single-publisher lock on each database: one holder, takeover, fenced progress."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, text

from services.ledger.relay.leader import AdvisoryLock, LeadershipLost, Lease, leadership_for
from services.ledger.store import get_relay_position


def test_one_holder_at_a_time_and_the_next_one_after_release(engine: Engine) -> None:
    first = leadership_for(engine, "feed", "first")
    second = leadership_for(engine, "feed", "second")
    other_feed = leadership_for(engine, "other", "third")
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # re-entrant for its holder
        assert not second.try_acquire()
        assert other_feed.try_acquire()  # another relay name is another lock
        first.confirm()
        first.record(42)
        assert get_relay_position(engine, "feed") == 42
        with pytest.raises(LeadershipLost):
            second.record(7)
        assert get_relay_position(engine, "feed") == 42

        first.release()
        assert second.try_acquire()
        with pytest.raises(LeadershipLost):
            first.confirm()
    finally:
        for leadership in (first, second, other_feed):
            leadership.release()


def test_sqlite_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced(
    sqlite_url: str,
) -> None:
    from services.ledger.store import make_engine

    engine = make_engine(sqlite_url)
    try:
        crashed = Lease(engine, "feed", "crashed", lease_seconds=0.3)
        waiting = Lease(engine, "feed", "waiting", lease_seconds=5)
        assert crashed.try_acquire()
        assert not waiting.try_acquire()
        time.sleep(0.4)  # the holder stopped renewing (it hangs or was killed)
        assert waiting.try_acquire()
        with pytest.raises(LeadershipLost):
            crashed.record(99)  # it wakes up: it may not record progress any more
        with pytest.raises(LeadershipLost):
            crashed.confirm()
        waiting.record(5)
        assert get_relay_position(engine, "feed") == 5
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_the_lock_dies_with_its_session(postgres_url: str) -> None:
    from services.ledger.store import make_engine

    engine = make_engine(postgres_url)
    try:
        holder = AdvisoryLock(engine, "feed", "holder")
        waiting = AdvisoryLock(engine, "feed", "waiting")
        assert holder.try_acquire()
        assert not waiting.try_acquire()
        with engine.connect() as admin:  # the holder's session is killed (crash, failover)
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND classid::bigint = :a AND objid::bigint = :b AND granted"
                ),
                {"a": holder.key[0], "b": holder.key[1] & 0xFFFFFFFF},
            )
            admin.commit()
        deadline = time.monotonic() + 5
        while not waiting.try_acquire():
            assert time.monotonic() < deadline, "the lock was not freed with its session"
            time.sleep(0.05)
        with pytest.raises(LeadershipLost):
            holder.confirm()
        with pytest.raises(LeadershipLost):
            holder.record(99)
        assert get_relay_position(engine, "feed") == 0
        waiting.release()
    finally:
        engine.dispose()
