"""The `bridges` command line: one entry point for both services and their operators."""

from __future__ import annotations

import click

from services.ledger.cli import LEDGER_GROUPS
from services.notifier.cli import notifier


@click.group(help="Bridges: every funded VCSE hour visible from claim to payment.")
def main() -> None:
    pass


for group in (*LEDGER_GROUPS, notifier):
    main.add_command(group)

if __name__ == "__main__":  # pragma: no cover
    main()
