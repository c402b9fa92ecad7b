"""What the deployment tests share: where the files are, how to read them, and whether a
`bridges …` command line of a container would parse."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
GUIDE = ROOT / "docs" / "operations.md"

# The roles of the one image (the Containerfile's header names them too).
ROLES = (
    ("ledger", "serve"),
    ("ledger", "relay"),
    ("notifier", "run"),
    ("notifier", "serve"),
    ("db", "upgrade"),
    ("notifier", "db", "upgrade"),
)


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in load_yaml_documents(path):
            yield path, doc


def command_problem(args: Sequence[str]) -> str | None:
    """None when `bridges ARGS` names a command and its options parse; else what is wrong.
    Parsing only: nothing is run."""
    from services.cli import main

    command: click.Command = main
    rest = list(args)
    path = ["bridges"]
    while isinstance(command, click.Group):
        if not rest:
            return f"{' '.join(path)}: a group, not a command"
        name = rest.pop(0)
        sub = command.commands.get(name)
        if sub is None:
            return f"{' '.join(path)} has no command {name!r}"
        command, path = sub, [*path, name]
    try:
        command.make_context(" ".join(path), rest)
    except click.ClickException as error:
        return f"{' '.join(path)}: {error.format_message()}"
    return None


ENV_NAME = re.compile(r"""["']((?:BRIDGES|KAFKA|NOTIFIER|DATABASE)_[A-Z0-9_]+)["']""")


def variables_read_by_the_code() -> set[str]:
    """Every configuration variable named as a string in the services, shared/ and deploy/'s
    Python (settings, click envvars, gunicorn's config)."""
    names: set[str] = set()
    files = [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]
    files += [*DEPLOY.glob("*.py")]
    for path in files:
        names.update(ENV_NAME.findall(path.read_text()))
    return names
