"""deploy/Containerfile, linted by the project's own structural checks.

Not hadolint: hadolint is not in Debian's packages and is written in Haskell (the Go module
proxy cannot build it), and no other Dockerfile linter ships in a registry this project uses.
These checks are the rules that matter here, each shown to fail on a broken copy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy._support import DEPLOY, ROLES, ROOT, command_problem

CONTAINERFILE = DEPLOY / "Containerfile"


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """The file's instructions, continuation lines joined and comments dropped."""
    found: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        joined = " ".join(part for part in pending if part)
        keyword, _, arguments = joined.partition(" ")
        found.append(Instruction(start, keyword.upper(), arguments.strip()))
        pending = []
    assert not pending, "the file ends inside a continued instruction"
    return found


SECRET_WORDS = re.compile(r"(PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL)", re.IGNORECASE)
PINNED_IMAGE = re.compile(
    r"^[a-z0-9./-]+:(?!latest\b)[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*(@sha256:[0-9a-f]{64})?$"
)


def lint(text: str) -> list[str]:
    """Every problem found in a Containerfile's text (empty when it passes)."""
    problems: list[str] = []
    found = instructions(text)
    keywords = [i.keyword for i in found]
    stages: set[str] = set()
    for ins in found:
        where = f"line {ins.line}"
        if ins.keyword == "FROM":
            parts = ins.arguments.split()
            image = parts[0]
            if image not in stages and not PINNED_IMAGE.match(image):
                problems.append(f"{where}: base image {image!r} is not pinned to a version tag")
            if len(parts) == 3 and parts[1].upper() == "AS":
                stages.add(parts[2])
        elif ins.keyword == "ADD" and re.search(r"https?://", ins.arguments):
            problems.append(f"{where}: ADD of a URL (download in a RUN with a checksum)")
        elif ins.keyword in ("ENV", "ARG"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", ins.arguments) or [
                ins.arguments.split()[0] if ins.arguments else ""
            ]:
                if SECRET_WORDS.search(name):
                    problems.append(f"{where}: {ins.keyword} {name} bakes a secret into the image")
        elif ins.keyword == "RUN" and re.search(r"\bsudo\b", ins.arguments):
            problems.append(f"{where}: sudo in RUN")
        elif (
            ins.keyword == "RUN"
            and re.search(r"\bpip3? install\b", ins.arguments)
            and "-c requirements.lock" not in ins.arguments
        ):
            problems.append(f"{where}: pip install without the lock file as constraints")
    users = [i for i in found if i.keyword == "USER"]
    if not users:
        problems.append("no USER: the services would run as root")
    elif users[-1].arguments.split(":")[0] in ("root", "0"):
        problems.append(f"line {users[-1].line}: the last USER is root")
    if "HEALTHCHECK" not in keywords:
        problems.append("no HEALTHCHECK")
    if "ENTRYPOINT" not in keywords:
        problems.append("no ENTRYPOINT")
    last_from = max(i for i, k in enumerate(keywords) if k == "FROM")
    if users and keywords.index("USER") < last_from:
        problems.append("USER is set in an earlier stage only, not in the image that runs")
    return problems


def test_the_containerfile_passes_the_lint() -> None:
    assert lint(CONTAINERFILE.read_text()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("python:3.11.11-slim-bookworm", "python:latest"), "not pinned"),
        (lambda t: t.replace("python:3.11.11-slim-bookworm", "python"), "not pinned"),
        (lambda t: t.replace("USER 10001:10001", "USER root"), "last USER is root"),
        (lambda t: t.replace("USER 10001:10001\n", ""), "no USER"),
        (lambda t: re.sub(r"HEALTHCHECK[^\n]*\\\n[^\n]*\n", "", t), "no HEALTHCHECK"),
        (lambda t: t + "ENV BRIDGES_SECRET_KEY=abc\n", "bakes a secret"),
        (lambda t: t + "ARG DB_PASSWORD\n", "bakes a secret"),
        (lambda t: t + "ADD https://example.org/x.tgz /x.tgz\n", "ADD of a URL"),
        (lambda t: t.replace("pip install -c requirements.lock -e .", "pip install -e ."), "lock"),
    ],
)
def test_the_lint_fails_a_broken_copy(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    broken = change(CONTAINERFILE.read_text())
    assert broken != CONTAINERFILE.read_text(), "the change did not apply"
    problems = lint(broken)
    assert any(expected in p for p in problems), problems


def test_the_image_builds_the_web_assets_with_the_projects_script_and_no_secrets() -> None:
    text = CONTAINERFILE.read_text()
    assert "RUN bash deploy/local/assets.sh" in text
    assert "COPY --from=assets /src/services/ledger/web/static/govuk" in text
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for path in (".git", ".venv", "var", "deploy/.env"):
        assert path in ignored, f"{path} would be sent into the build context"


def _exec_form(arguments: str) -> list[str]:
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), arguments
    return [str(part) for part in parsed]


def test_the_default_command_and_every_role_are_bridges_commands() -> None:
    found = {i.keyword: i.arguments for i in instructions(CONTAINERFILE.read_text())}
    assert _exec_form(found["ENTRYPOINT"]) == ["bridges"]
    assert command_problem(_exec_form(found["CMD"])) is None
    header = CONTAINERFILE.read_text().split("\n\n", 1)[0]
    for role in ROLES:
        assert " ".join(role) in header, f"the header does not name the role {role}"
        assert command_problem(role) is None


@pytest.mark.parametrize("role", ROLES, ids=" ".join)
def test_each_role_answers_help_from_the_installed_command(role: tuple[str, ...]) -> None:
    bridges = Path(sys.executable).parent / "bridges"
    done = subprocess.run(
        [str(bridges), *role, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: bridges " + " ".join(role) in done.stdout


def test_command_problem_notices_a_command_or_option_that_does_not_exist() -> None:
    assert command_problem(["ledger", "serv"]) is not None
    assert command_problem(["ledger"]) is not None
    assert command_problem(["ledger", "serve", "--prot", "1"]) is not None
    assert command_problem(["ledger", "serve", "--port", "eighty"]) is not None
    assert command_problem(["kafka", "init", "--replication-factor", "3"]) is None


def test_the_health_check_script_passes_a_live_endpoint_and_fails_a_dead_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prometheus_client import CollectorRegistry

    from shared.ops_server import serve_ops
    from shared.readiness import NotReady

    def not_ready() -> None:
        raise NotReady("for the test")

    server = serve_ops("127.0.0.1", 0, CollectorRegistry(), not_ready)
    port = server.server_port
    script = str(DEPLOY / "healthcheck.py")
    try:
        results = {}
        for path in ("healthz", "readyz"):
            env = {"BRIDGES_HEALTHCHECK_URL": f"http://127.0.0.1:{port}/{path}", "PATH": ""}
            done = subprocess.run(
                [sys.executable, script], env=env, capture_output=True, timeout=30, check=False
            )
            results[path] = done.returncode
    finally:
        server.shutdown()
        server.server_close()
    assert results == {"healthz": 0, "readyz": 1}
    dead = {"BRIDGES_HEALTHCHECK_URL": f"http://127.0.0.1:{port}/healthz", "PATH": ""}
    done = subprocess.run([sys.executable, script], env=dead, capture_output=True, timeout=30)
    assert done.returncode == 1
    remote = {"BRIDGES_HEALTHCHECK_URL": "http://example.org/healthz", "PATH": ""}
    done = subprocess.run([sys.executable, script], env=remote, capture_output=True, timeout=30)
    assert done.returncode == 1
