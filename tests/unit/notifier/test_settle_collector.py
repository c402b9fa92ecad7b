"""`bridges notifier run` and each gunicorn worker, once started, move what the process built
out of the garbage collector's generations (`gc.freeze`, shared/collector.py), so the full
collections a batch's decoded events bring on no longer walk the modules, schemas and compiled
statements every time."""

from __future__ import annotations

import gc
import weakref

from shared.collector import settle_collector


def test_what_the_process_built_is_frozen_and_its_garbage_collected_first() -> None:
    built = [[] for _ in range(1000)]  # stands for what the process built (tracked objects)
    gc.unfreeze()
    gc.disable()  # no collection of its own before the call
    try:
        garbage = _Cycle()
        garbage.me = garbage  # a cycle left over from startup
        left_over = weakref.ref(garbage)
        del garbage
        settle_collector()
        assert gc.get_freeze_count() >= len(built)
        assert left_over() is None  # collected, not frozen for the process's life
    finally:
        gc.unfreeze()
        gc.enable()


class _Cycle:
    me: object
