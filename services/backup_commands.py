"""`bridges db backup|restore` and `bridges notifier db backup|restore`: the commands, declared
once for either database (shared/backup.py does the work), with the messages and exit status of
a command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def add_backup_commands(
    group: click.Group,
    database_option: Callable[[Any], Any],
    url_of: Callable[[str | None], str],
    *,
    backup_help: str,
    restore_help: str,
) -> None:
    """Add `backup --out FILE` and `restore --from FILE [--dry-run]` to a CLI's `db` group;
    `url_of(the --database-url value)` is the database they act on."""

    @group.command("backup", help=backup_help)
    @click.option("--out", required=True, type=click.Path(dir_okay=False))
    @database_option
    def backup(out: str, database_url: str | None) -> None:
        backup_command(url_of(database_url), Path(out))

    @group.command("restore", help=restore_help)
    @click.option("--from", "backup", required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Say what would be replaced; change nothing.")
    @database_option
    def restore(backup: str, dry_run: bool, database_url: str | None) -> None:
        restore_command(url_of(database_url), Path(backup), dry_run)


def backup_command(url: str, out: Path) -> None:
    from shared.backup import BackupFailed, backup_database

    try:
        click.echo(backup_database(url, out))
    except (ValueError, BackupFailed) as error:
        raise click.ClickException(str(error)) from None


def restore_command(url: str, backup: Path, dry_run: bool) -> None:
    from shared.backup import BackupFailed, describe_restore, restore_database

    try:
        if dry_run:
            click.echo(f"dry run: would {describe_restore(url, backup)}")
            return
        click.echo(restore_database(url, backup))
    except (ValueError, BackupFailed) as error:
        raise click.ClickException(str(error)) from None
