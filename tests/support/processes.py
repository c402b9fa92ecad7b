"""The services as real processes, for fault runs: the ledger under gunicorn, the relay and the
notifier, each started by the test in its own session (process group) so a fault kills exactly
what the test started, by its pid, and nothing else."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import requests

from shared.settings import KafkaSettings

BRIDGES = str(Path(sys.executable).with_name("bridges"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    """One command run as its own process group; its output appended to `log`."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    def start(self) -> Service:
        assert not self.running, f"{self.name} is already running"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: gunicorn's workers too
            )
        self.starts += 1
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL the whole process group the test started (gunicorn's arbiter and workers)."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.kills += 1

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then SIGKILL if it does not stop in time; its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            except ProcessLookupError:
                pass
        return self.process.returncode

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


class LedgerServer(Service):
    """`bridges ledger serve` (gunicorn) on a free port."""

    def __init__(
        self, env: Mapping[str, str], log: Path, workers: int = 2, name: str = "ledger"
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        super().__init__(
            name,
            [BRIDGES, "ledger", "serve", "--port", str(self.port), "--workers", str(workers)],
            {**env, "BRIDGES_LEDGER_ACCESS_LOG": "/dev/null"},
            log,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.running, f"the ledger exited:\n{self.tail()}"
            try:
                if requests.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the ledger was not ready in {timeout}s:\n{self.tail()}")


def relay_service(
    database_url: str,
    settings: KafkaSettings,
    log: Path,
    *,
    name: str = "relay",
    batch_size: int = 200,
    lease_seconds: float = 3,
    env: Mapping[str, str] | None = None,
) -> Service:
    """`bridges ledger relay` for the settings' topic (metrics on a free port)."""
    return Service(
        name,
        [BRIDGES, "ledger", "relay", "--batch-size", str(batch_size)],
        {
            **(env or os.environ),
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            "BRIDGES_EVENTS_TOPIC": settings.events_topic,
            "BRIDGES_RELAY_METRICS_PORT": str(free_port()),
            "BRIDGES_RELAY_LEASE_SECONDS": str(lease_seconds),  # SQLite: a killed relay's lease
        },
        log,
    )


def notifier_env(
    settings: KafkaSettings,
    database_url: str,
    group: str | None = None,
    *,
    keys_url: str,
    **extra: str,
) -> dict[str, str]:
    """The environment of `bridges notifier run` for a test's topic and database; `keys_url`
    is where the data keys of sealed personal fields come from (the ledger's database URL)."""
    return {
        **os.environ,
        "NOTIFIER_DATABASE_URL": database_url,
        "BRIDGES_NOTIFIER_KEYS_URL": keys_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "BRIDGES_EVENTS_TOPIC": settings.events_topic,
        "BRIDGES_DLQ_TOPIC": settings.dlq_topic,
        "BRIDGES_NOTIFIER_GROUP": group or f"notifier-{uuid.uuid4().hex[:8]}",
        "BRIDGES_NOTIFIER_METRICS_PORT": "0",
        "BRIDGES_NOTIFIER_SESSION_TIMEOUT_MS": "6000",
        "BRIDGES_NOTIFIER_TICK_SECONDS": "1",
        **extra,
    }


def fast_email(smtp_port: int) -> dict[str, str]:
    """Notifier settings that send email to the test's SMTP server and retry within seconds."""
    return {
        "BRIDGES_SMTP_HOST": "127.0.0.1",
        "BRIDGES_SMTP_PORT": str(smtp_port),
        "BRIDGES_DELIVERY_LEASE_SECONDS": "1",
        "BRIDGES_DELIVERY_BACKOFF_BASE_SECONDS": "0.2",
        "BRIDGES_DELIVERY_BACKOFF_CAP_SECONDS": "1",
    }


def notifier_service(env: Mapping[str, str], log: Path, name: str = "notifier") -> Service:
    return Service(name, [BRIDGES, "notifier", "run"], env, log)
