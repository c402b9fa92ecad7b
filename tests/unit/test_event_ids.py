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


def test_ids_made_one_after_another_share_their_time_prefix() -> None:
    """48 bits of milliseconds lead: a burst of ids spans few milliseconds, so they
    land side by side in an index instead of on 2,000 random pages."""
    prefixes = {new_event_id().int >> 80 for _ in range(2000)}
    assert len(prefixes) < 1000  # (a pause of a second mid-burst would still pass)
    assert all(prefix >> 47 == 0 for prefix in prefixes)  # within the 48 bits, not wrapped


def test_a_new_event_gets_one_by_default() -> None:
    assert NewEvent(type="ClaimSubmitted", data={}).event_id.version == 7
