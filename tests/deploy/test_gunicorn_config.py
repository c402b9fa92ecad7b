"""deploy/gunicorn.conf.py: each worker, once the app is built, moves what it built out of the
garbage collector's generations (`gc.freeze`), so a full collection no longer walks the app's
schemas, tables and compiled statements (one such collection took about 100 ms: a pause every
request in flight on the worker waited out)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_freezes_what_the_app_built_once_it_is_built() -> None:
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert conf["preload_app"] is False  # so the hook runs after each worker built its app
    built = [[] for _ in range(1000)]  # stands for the app (tracked objects), alive at the hook
    gc.unfreeze()
    try:
        conf["post_worker_init"](None)
        assert gc.get_freeze_count() >= len(built)
    finally:
        gc.unfreeze()
