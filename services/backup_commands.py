"""What `bridges db backup|restore` and `bridges notifier db backup|restore` do, for either
database (shared/backup.py does the work), with the messages and exit status of a command."""

from __future__ import annotations

from pathlib import Path

import click


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
