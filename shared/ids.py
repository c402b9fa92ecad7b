"""Fresh identifiers that sort by when they were made: UUID version 7 (RFC 9562 §5.7)."""

from __future__ import annotations

import os
import time
import uuid


def time_ordered_uuid(unix_milliseconds: int | None = None) -> uuid.UUID:
    """48 bits of Unix time in milliseconds (now, unless given) then 74 random bits. Ids made
    close in time sort close together, so a unique index on them takes a new one near the last
    instead of on a random page, and a range of them "made after this one" is short. Nothing
    may decide by the time in one (a clock can step back): it orders, never dates."""
    if unix_milliseconds is None:
        unix_milliseconds = time.time_ns() // 1_000_000
    milliseconds = unix_milliseconds & _BITS_48
    rand_a = int.from_bytes(os.urandom(2), "big") & 0xFFF  # 12 bits
    rand_b = int.from_bytes(os.urandom(8), "big") & _BITS_62  # 62 bits
    return uuid.UUID(
        int=(milliseconds << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    )


_BITS_48 = (1 << 48) - 1
_BITS_62 = (1 << 62) - 1
