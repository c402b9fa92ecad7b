"""The token-signing key kept in the var directory when no variable sets it: gunicorn's workers
start at once on a fresh directory, and each must end with the same whole key."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared import tokens


@pytest.fixture(autouse=True)
def _no_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tokens.KEY_ENV, raising=False)


def test_a_worker_that_loses_the_race_reads_the_winners_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker made the file between this one's look and its write (seen in CI: a
    worker crashed with FileExistsError and gunicorn reset the connections it held)."""
    winner = tokens.token_key(tmp_path)
    monkeypatch.setattr(Path, "exists", lambda self: False)  # it looked before the winner wrote
    assert tokens.token_key(tmp_path) == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token_key"]  # no temporary left


def test_workers_starting_together_share_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        keys = set(pool.map(lambda _: tokens.token_key(tmp_path), range(64)))
    assert len(keys) == 1
    assert len(keys.pop()) >= 48
    assert (tmp_path / "token_key").stat().st_mode & 0o777 == 0o600
