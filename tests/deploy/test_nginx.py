"""deploy/nginx/nginx.conf: nginx itself accepts it (`nginx -t`), it buffers requests and
responses, and its timeouts are the ones docs/operations.md gives."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy._support import DEPLOY, GUIDE

NGINX_CONF = DEPLOY / "nginx" / "nginx.conf"


def nginx_test(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the text, with the upstreams' service names pointed at loopback (they
    are resolved when the configuration loads; nothing is started or contacted)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: deploy/local/test.sh installs nginx-light"
    local = re.sub(r"server [a-z-]+:(\d+);", r"server 127.0.0.1:\1;", text)
    conf = tmp_path / "nginx.conf"
    conf.write_text(local.replace("/tmp/", f"{tmp_path}/"))
    return subprocess.run(
        [nginx, "-t", "-q", "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def directives(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"\s*([a-z_]+)\s+([^;{]+);", line)
        if match:
            found.setdefault(match.group(1), match.group(2).strip())
    return found


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    done = nginx_test(NGINX_CONF.read_text(), tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("client_body_timeout 10s;", "client_body_timeout ten;"),
        lambda t: t.replace("proxy_request_buffering on;", "proxy_request_bufering on;"),
        lambda t: t.replace("events {", "events"),
    ],
    ids=["bad-value", "unknown-directive", "unbalanced"],
)
def test_nginx_refuses_a_broken_copy(change, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = change(NGINX_CONF.read_text())
    assert broken != NGINX_CONF.read_text()
    assert nginx_test(broken, tmp_path).returncode != 0


def test_requests_and_responses_are_buffered_with_bounded_waits() -> None:
    found = directives(NGINX_CONF.read_text())
    assert found["proxy_request_buffering"] == "on"
    assert found["proxy_buffering"] == "on"
    assert found["client_max_body_size"] == "1m"
    assert found["client_body_buffer_size"] == "1m"
    assert found["proxy_next_upstream"] == "off"
    gunicorn_timeout = int(
        re.search(r'BRIDGES_LEDGER_TIMEOUT", "(\d+)"', (DEPLOY / "gunicorn.conf.py").read_text())[1]
    )
    assert int(found["proxy_read_timeout"].rstrip("s")) > gunicorn_timeout


def test_the_guide_gives_every_timeout_as_configured() -> None:
    found = directives(NGINX_CONF.read_text())
    guide = GUIDE.read_text()
    for name in (
        "client_header_timeout",
        "client_body_timeout",
        "send_timeout",
        "keepalive_timeout",
        "proxy_connect_timeout",
        "proxy_send_timeout",
        "proxy_read_timeout",
        "client_max_body_size",
    ):
        assert f"`{name} {found[name]}`" in guide, f"docs/operations.md does not give {name}"
