"""The `bridges` command line: one entry point for both services and their operators."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from shared.settings import REPO_ROOT, LedgerSettings

ROLES = ("vcse_member", "vcse_admin", "approver", "finance", "partner_viewer", "operator")


def _database_option(function):  # type: ignore[no-untyped-def]
    return click.option(
        "--database-url",
        envvar="DATABASE_URL",
        default=None,
        help="SQLAlchemy URL of the ledger database (env DATABASE_URL; default SQLite in var/).",
    )(function)


def _settings(database_url: str | None) -> LedgerSettings:
    settings = LedgerSettings.from_env()
    if database_url:
        settings = LedgerSettings(**{**settings.__dict__, "database_url": database_url})
    return settings


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@click.group(help="Bridges: every funded VCSE hour visible from claim to payment.")
def main() -> None:
    pass


@main.group(help="The ledger's database.")
def db() -> None:
    pass


@db.command("upgrade", help="Create or upgrade the ledger's schema to the newest migration.")
@_database_option
@click.option("--revision", default="head", show_default=True, help="Alembic revision.")
def db_upgrade(database_url: str | None, revision: str) -> None:
    from services.ledger.store.migrate import upgrade

    settings = _settings(database_url)
    _ensure_sqlite_dir(settings.database_url)
    upgrade(settings.database_url, revision)
    click.echo(f"ledger database at {revision}")


@main.group(help="The ledger service.")
def ledger() -> None:
    pass


@ledger.command("serve", help="Serve the ledger API under gunicorn.")
@click.option("--host", envvar="BRIDGES_LEDGER_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="BRIDGES_LEDGER_PORT", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    envvar="BRIDGES_LEDGER_WORKERS",
    default=None,
    type=int,
    help="gunicorn workers (default from deploy/gunicorn.conf.py).",
)
@_database_option
def ledger_serve(host: str, port: int, workers: int | None, database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    config = REPO_ROOT / "deploy" / "gunicorn.conf.py"
    argv = ["gunicorn", "--bind", f"{host}:{port}"]
    if config.exists():
        argv += ["--config", str(config)]
    if workers:
        argv += ["--workers", str(workers)]
    argv.append("services.ledger.api.app:create_app()")
    os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606 - our own argv


@ledger.command("openapi", help="Print the OpenAPI document, or write it to a file.")
@click.option("--write", "path", type=click.Path(dir_okay=False), default=None)
def ledger_openapi(path: str | None) -> None:
    from services.ledger.api.openapi import openapi_document

    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if path:
        Path(path).write_text(text)
        click.echo(f"wrote {path}")
    else:
        click.echo(text, nl=False)


@main.group(help="People and their API tokens.")
def users() -> None:
    pass


@users.command("create", help="Add a person with roles and print a new API token (shown once).")
@click.option("--org", "org", required=True, help="Organisation id or exact name.")
@click.option(
    "--org-kind",
    type=click.Choice(["vcse", "statutory"]),
    default=None,
    help="Register the organisation first if no organisation has that name.",
)
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    type=click.Choice(ROLES),
    help="Role; repeat for several.",
)
@click.option("--email", required=True)
@click.option("--name", default=None, help="Full name (default: the email's local part).")
@_database_option
def users_create(
    org: str,
    org_kind: str | None,
    roles: tuple[str, ...],
    email: str,
    name: str | None,
    database_url: str | None,
) -> None:
    from services.ledger.application import Ledger
    from services.ledger.store import EventStore, make_engine

    settings = _settings(database_url)
    ledger_app = Ledger(EventStore(make_engine(settings.database_url)), settings=settings)
    with ledger_app.store.unit_of_work() as uow:
        organisation = ledger_app.find_organisation(uow, org)
        if organisation is None:
            if org_kind is None:
                raise click.UsageError(f"no organisation {org!r}; pass --org-kind to register it")
            organisation_id = ledger_app.register_organisation(
                uow, None, {"name": org, "kind": org_kind}
            )["id"]
        else:
            organisation_id = organisation.id
        person = ledger_app.add_person(
            uow,
            None,
            organisation_id,
            {"name": name or email.split("@")[0], "email": email, "roles": list(roles)},
        )
        token = ledger_app.issue_token(uow, person["id"])
    click.echo(
        json.dumps({"person_id": person["id"], "organisation_id": organisation_id, "token": token})
    )


@main.group(help="The demo partnership.")
def demo() -> None:
    pass


@demo.command("seed", help="Load the demo partnership and print its ids and one token per role.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the default is text).")
@_database_option
def demo_seed(as_json: bool, database_url: str | None) -> None:
    from services.ledger.demo import seed

    settings = _settings(database_url)
    result = seed(settings)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(f"partnership {result['partnership_id']}")
        for role, token in result["tokens"].items():
            click.echo(f"{role:15} {token}")


if __name__ == "__main__":  # pragma: no cover
    main()
