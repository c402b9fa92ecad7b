"""deploy/local's scripts work from any checkout, beside the services of other checkouts.

Each test copies the scripts into a fresh checkout folder under pytest's private temporary
directory (mode 0700: other OS users cannot enter it, like a clone under /root) and runs them
there, so nothing touches this checkout's own var/ or the services it runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ("ports.sh", "kafka.sh", "postgres.sh")


def make_checkout(parent: Path, name: str) -> Path:
    checkout = parent / name
    (checkout / "deploy" / "local").mkdir(parents=True)
    for script in SCRIPTS:
        shutil.copy2(REPO_ROOT / "deploy" / "local" / script, checkout / "deploy" / "local")
    return checkout


def run(checkout: Path, script: str, *args: str, **env: str) -> str:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"BRIDGES_VAR_DIR", "KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "PGPORT"}
    }
    result = subprocess.run(
        ["bash", str(checkout / "deploy" / "local" / script), *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**clean, **env},
        cwd=checkout,
    )
    assert result.returncode == 0, f"{script} {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip().splitlines()[-1]


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1].split("/", 1)[0])


@pytest.fixture
def private(tmp_path: Path) -> Path:
    tmp_path.chmod(0o700)
    return tmp_path


@pytest.fixture
def listening() -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


def listen(sockets: list[socket.socket], port: int) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    sockets.append(sock)


def test_each_checkout_remembers_its_own_ports(private: Path) -> None:
    checkout = make_checkout(private, "a")
    kafka = run(checkout, "kafka.sh", "bootstrap")
    postgres = run(checkout, "postgres.sh", "url")

    assert kafka.startswith("127.0.0.1:") and 19092 <= port_of(kafka) <= 21091
    assert 25432 <= port_of(postgres) <= 26431
    assert (checkout / "var" / "ports" / "kafka").read_text().split() == [
        str(port_of(kafka)),
        str(port_of(kafka) + 1),
    ]
    assert (checkout / "var" / "ports" / "postgres").read_text().split() == [str(port_of(postgres))]
    # Asked again (the services running or not), the same ports.
    assert run(checkout, "kafka.sh", "bootstrap") == kafka
    assert run(checkout, "postgres.sh", "url") == postgres


def test_a_new_checkout_skips_ports_already_in_use(
    private: Path, listening: list[socket.socket]
) -> None:
    checkout = make_checkout(private, "b")
    kafka = port_of(run(checkout, "kafka.sh", "bootstrap"))
    postgres = port_of(run(checkout, "postgres.sh", "url"))
    shutil.rmtree(checkout / "var" / "ports")
    listen(listening, kafka + 1)  # the controller port of the pair it would pick
    listen(listening, postgres)

    again = port_of(run(checkout, "kafka.sh", "bootstrap"))
    assert again not in (kafka, kafka + 1) and again + 1 not in (kafka, kafka + 1)
    assert port_of(run(checkout, "postgres.sh", "url")) != postgres


def test_explicit_ports_win_and_are_remembered(private: Path) -> None:
    checkout = make_checkout(private, "c")
    assert run(checkout, "kafka.sh", "bootstrap", KAFKA_PORT="19500") == "127.0.0.1:19500"
    assert run(checkout, "kafka.sh", "bootstrap") == "127.0.0.1:19500"
    assert (checkout / "var" / "ports" / "kafka").read_text().split() == ["19500", "19501"]
    assert port_of(run(checkout, "postgres.sh", "url", PGPORT="25999")) == 25999
    assert port_of(run(checkout, "postgres.sh", "url")) == 25999


def test_services_configured_before_ports_were_remembered_keep_their_ports(
    private: Path,
) -> None:
    """A checkout whose broker and cluster ran on the old fixed ports keeps them (the broker's
    storage records its controller port; its clients know the port)."""
    checkout = make_checkout(private, "d")
    kafka_var = checkout / "var" / "kafka"
    kafka_var.mkdir(parents=True)
    (kafka_var / "server.properties").write_text(
        "process.roles=broker,controller\n"
        "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093\n"
    )
    pgdata = checkout / "var" / "postgres" / "data"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("17\n")
    (pgdata / "bridges.conf").write_text("listen_addresses = '127.0.0.1'\nport = 55432\n")

    assert run(checkout, "kafka.sh", "bootstrap") == "127.0.0.1:9092"
    assert (checkout / "var" / "ports" / "kafka").read_text().split() == ["9092", "9093"]
    assert port_of(run(checkout, "postgres.sh", "url")) == 55432
    assert run(checkout, "postgres.sh", "where") == str(checkout / "var" / "postgres")


@pytest.mark.postgres
def test_postgres_runs_from_a_checkout_its_owner_cannot_enter(private: Path) -> None:
    """Run as root, the cluster belongs to the `postgres` OS user: its files must live where that
    user can reach them, and `up` says where."""
    checkout = make_checkout(private, "e")
    where = Path(run(checkout, "postgres.sh", "where"))
    if os.geteuid() == 0:
        assert not where.is_relative_to(private)
        assert where.name.startswith("e-")
    else:
        assert where == checkout / "var" / "postgres"
    try:
        up = run(checkout, "postgres.sh", "up")
        assert f"cluster files: {where}" in up
        engine = create_engine(run(checkout, "postgres.sh", "url"))
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT current_user")).scalar() == "bridges"
        finally:
            engine.dispose()
        assert (where / "data" / "PG_VERSION").is_file()
    finally:
        run(checkout, "postgres.sh", "purge")
    assert not where.exists()
