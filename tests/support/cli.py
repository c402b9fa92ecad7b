"""Running `bridges …` in-process, with a var directory of the test's own (so the token key
files it makes are the test's, not the checkout's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from services.cli import main


def bridges(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("BRIDGES_TOKEN_KEY", raising=False)
    monkeypatch.delenv("BRIDGES_TOKEN_KEY_PREVIOUS", raising=False)
    monkeypatch.setenv("BRIDGES_VAR_DIR", str(tmp_path))
    return tmp_path
