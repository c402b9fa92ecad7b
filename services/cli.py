"""The `bridges` command line: one entry point for both services and their operators."""

from __future__ import annotations

import click

from services.ledger.cli import LEDGER_GROUPS
from services.notifier.cli import notifier
from shared import clock
from shared.logging import configure_logging, get_logger


@click.group(help="Bridges: every funded VCSE hour visible from claim to payment.")
def main() -> None:
    # Every command runs on the product's clock: say so when BRIDGES_CLOCK_START shifts it.
    try:
        clock.configure()
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if clock.shifted_start() is not None:
        configure_logging()
        clock.announce(get_logger("bridges.clock"))


for group in (*LEDGER_GROUPS, notifier):
    main.add_command(group)

if __name__ == "__main__":  # pragma: no cover
    main()
