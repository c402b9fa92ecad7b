"""A revoked token is refused at once by every gunicorn worker: the ledger under gunicorn with
two worker processes, the token answered by both, then revoked from another process (the
`bridges users tokens revoke` command): the very next requests, whichever worker takes them,
answer 401. (No worker may keep a token it has seen in a cache that outlives a revocation.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.support.cli import bridges, var_dir
from tests.support.processes import LedgerServer

__all__ = ["var_dir"]  # a fixture

ROOT = Path(__file__).resolve().parents[2]


def test_a_revoked_token_is_refused_at_once_by_every_worker(sqlite_url: str, var_dir: Path) -> None:
    created = bridges(
        "users", "create", "--org", "Ops", "--org-kind", "statutory", "--role", "operator",
        "--email", "ops@example.org", "--database-url", sqlite_url,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    token = json.loads(created.output)["token"]
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "BRIDGES_VAR_DIR": str(var_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(var_dir / "metrics"),
    }
    server = LedgerServer(env, var_dir / "ledger.log", workers=2)
    base = server.base

    def ask(_: int) -> int:
        # A new connection each time, so either worker may take it.
        answer = requests.get(
            f"{base}/api/v1/events?after=0&limit=1",
            headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            timeout=30,
        )
        return answer.status_code

    server.start()
    try:
        server.wait_ready()
        with ThreadPoolExecutor(max_workers=4) as pool:
            # Both workers answer the token (each has seen it) before the revocation...
            metrics = var_dir / "metrics"
            sent = 0
            while len({p.stem.rsplit("_", 1)[-1] for p in metrics.glob("counter_*.db")}) < 2:
                assert sent < 2000, "one worker answered every request"
                assert set(pool.map(ask, range(20))) == {200}
                sent += 20
            assert set(pool.map(ask, range(20))) == {200}
            revoked = subprocess.run(  # noqa: S603 - our own command, in another process
                [
                    sys.executable,
                    "-m",
                    "services.cli",
                    "users",
                    "tokens",
                    "revoke",
                    "--email",
                    "ops@example.org",
                    "--database-url",
                    sqlite_url,
                ],  # fmt: skip
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert revoked.returncode == 0, revoked.stdout + revoked.stderr
            # ...and neither accepts it afterwards, not even once.
            assert set(pool.map(ask, range(40))) == {401}
    finally:
        server.stop()
