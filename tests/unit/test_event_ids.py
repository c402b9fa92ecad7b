"""New events get UUID version 7 ids (RFC 9562): unique, well-formed, and made in order of
their creation time, which keeps the stores' unique index on event ids compact."""

from __future__ import annotations

import uuid

from shared.events.envelope import NewEvent, new_event_id


def test_new_event_ids_are_rfc_9562_version_7() -> None:
    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for event_id in ids:
        assert event_id.version == 7
        assert event_id.variant == uuid.RFC_4122
        assert str(uuid.UUID(str(event_id))) == str(event_id)


def test_ids_lead_with_their_milliseconds_so_they_sort_by_when_they_were_made() -> None:
    """48 bits of milliseconds lead: ids of one millisecond share their prefix (side by side
    in an index, not on 2,000 random pages), and a later millisecond's ids sort after."""
    instant = 1_796_400_000_000  # 2026-12-04 in Unix milliseconds, given, not read
    burst = [new_event_id(instant) for _ in range(2000)]
    assert {event_id.int >> 80 for event_id in burst} == {instant}
    later = new_event_id(instant + 1)
    assert all(str(event_id) < str(later) for event_id in burst)  # the stored text sorts too
    assert new_event_id(1 << 48).int >> 80 == 0  # beyond 48 bits it wraps, never spills


def test_a_new_event_gets_one_by_default() -> None:
    assert NewEvent(type="ClaimSubmitted", data={}).event_id.version == 7
