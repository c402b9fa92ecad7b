"""The ledger under gunicorn with two workers: `/metrics` adds up every worker's counts
(Prometheus multiprocess mode, deploy/gunicorn.conf.py), whichever worker answers the scrape;
and each request's JSON log line carries its request id and, behind a trusted proxy, the
client's address from X-Forwarded-For."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.support.receivers import free_port

ROOT = Path(__file__).resolve().parents[2]
HEALTHZ = re.compile(
    r'^bridges_ledger_http_requests_total\{endpoint="/healthz",method="GET",status="200"\} '
    r"([0-9.]+)$",
    re.MULTILINE,
)


def _pids_with_metrics(directory: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[-1] for path in directory.glob("counter_*.db")}


def test_two_workers_are_counted_in_one_scrape(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "BRIDGES_VAR_DIR": str(tmp_path),
        "BRIDGES_TRUSTED_PROXIES": "1",
        "BRIDGES_SECURE_COOKIES": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "BRIDGES_LEDGER_ACCESS_LOG": "/dev/null",
    }
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(  # noqa: S603 - our own command
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "2",
                "services.ledger.api.app:create_app()",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # (not /healthz: only the requests counted below may count there)
                requests.get(f"{base}/metrics", timeout=5)
                break
            except requests.RequestException:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        sent = 0

        def probe(_: int) -> int:
            # A new connection each time, so either worker may accept it.
            answer = requests.get(f"{base}/healthz", headers={"Connection": "close"}, timeout=10)
            return answer.status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(_pids_with_metrics(metrics_dir)) < 2:
                assert sent < 2000, "one worker answered every request"
                assert set(pool.map(probe, range(40))) == {200}
                sent += 40

        traced = requests.get(
            f"{base}/openapi.json",
            headers={"X-Request-ID": "trace-me-42", "X-Forwarded-For": "203.0.113.7"},
            timeout=10,
        )
        assert traced.headers["X-Request-ID"] == "trace-me-42"
        for _ in range(4):  # whichever worker answers the scrape, it reports both
            text = requests.get(f"{base}/metrics", timeout=10).text
            match = HEALTHZ.search(text)
            assert match, text[:2000]
            assert float(match.group(1)) == sent
        assert "bridges_ledger_http_request_seconds_bucket" in text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    [line] = [entry for entry in lines if entry.get("request_id") == "trace-me-42"]
    assert line["event"] == "http.request" and line["client"] == "203.0.113.7", line
    assert (line["endpoint"], line["status"]) == ("/openapi.json", 200)
