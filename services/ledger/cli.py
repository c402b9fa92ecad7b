"""`bridges db|ledger|users|demo|kafka …`: the ledger's commands (database, serving, the relay,
people and tokens, the demo partnership, the Kafka topics)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from services.backup_commands import add_backup_commands
from shared.principal import ROLES
from shared.settings import REPO_ROOT, LedgerSettings


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


def _echo_json(document: object, out: str | None = None) -> None:
    """Print a JSON document, or write it to `out` and say so."""
    text = json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"
    if out:
        Path(out).write_text(text)
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@click.group(help="The ledger's database.")
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


@db.command(
    "check",
    help="Say whether the ledger's database is at the newest migration (for deploy pipelines). "
    "Exit status: 0 at head, 1 not at head (it says which revision it is at, and head), "
    "3 the database does not answer.",
)
@_database_option
def db_check(database_url: str | None) -> None:
    from services.ledger.store.migrate import check
    from shared.migrations import check_report

    status, line = check_report("ledger", _settings(database_url).database_url, check)
    click.echo(line, err=status != 0)
    sys.exit(status)


add_backup_commands(
    db,
    _database_option,
    lambda database_url: _settings(database_url).database_url,
    backup_help="Back up the ledger's database to FILE, safe while the services run: SQLite "
    "with its online backup API, PostgreSQL with pg_dump --format=custom (the PostgreSQL client "
    "programs must be installed).",
    restore_help="Replace the ledger's database with a backup made by `bridges db backup` "
    "(stop the services first), then run `bridges db upgrade`. PostgreSQL: pg_restore in one "
    "transaction into the database DATABASE_URL names (create it first if it is new).",
)


@click.group(help="The ledger service.")
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

    _echo_json(openapi_document(), path)


@ledger.command(
    "relay",
    help=(
        "Publish the ledger's events to Kafka (the transactional outbox relay): in order, at "
        "least once, keyed by partnership. Waits while another relay publishes from the same "
        "database. Stops cleanly after the current batch on SIGTERM or Ctrl-C. Connection "
        "settings: KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_*."
    ),
)
@_database_option
@click.option(
    "--topic",
    show_envvar=True,
    envvar="BRIDGES_EVENTS_TOPIC",
    default="bridges.ledger.events",
    show_default=True,
    help="Events topic.",
)
@click.option(
    "--batch-size",
    show_envvar=True,
    envvar="BRIDGES_RELAY_BATCH_SIZE",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events per batch; progress is recorded once a batch is acknowledged.",
)
@click.option(
    "--poll-interval",
    show_envvar=True,
    envvar="BRIDGES_RELAY_POLL_INTERVAL",
    default=0.05,  # RelayOptions.poll_interval
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Seconds between looks at the store when there is nothing new.",
)
@click.option(
    "--metrics-port",
    show_envvar=True,
    envvar="BRIDGES_RELAY_METRICS_PORT",
    default=9464,
    show_default=True,
    type=click.IntRange(min=0, max=65535),
    help="Port of /metrics (Prometheus: lag), /healthz and /readyz (the database answers and "
    "is at head, Kafka answers and has the topic, the lag is under "
    "BRIDGES_RELAY_READY_MAX_LAG_SECONDS); 0 disables them.",
)
@click.option(
    "--metrics-host",
    show_envvar=True,
    envvar="BRIDGES_RELAY_METRICS_HOST",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics listen on.",
)
@click.option(
    "--lease-seconds",
    show_envvar=True,
    envvar="BRIDGES_RELAY_LEASE_SECONDS",
    default=15.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="SQLite only: how long a stopped relay's lease blocks another relay from taking over.",
)
@click.option(
    "--name",
    show_envvar=True,
    envvar="BRIDGES_RELAY_NAME",
    default=None,
    help="Name of the relay's recorded progress (default: the topic's name).",
)
def ledger_relay(
    database_url: str | None,
    topic: str,
    batch_size: int,
    poll_interval: float,
    metrics_port: int,
    metrics_host: str,
    lease_seconds: float,
    name: str | None,
) -> None:
    import logging
    import signal
    import threading

    from services.ledger.relay import Relay, RelayMetrics, RelayOptions, make_producer
    from services.ledger.relay.readiness import relay_readiness
    from services.ledger.store import EventStore, make_engine
    from shared.logging import configure_logging
    from shared.ops_server import serve_ops
    from shared.settings import KafkaSettings, kafka_client_config

    configure_logging()
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO lines are per connection
    settings = _settings(database_url)
    kafka = KafkaSettings.from_env()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    metrics = RelayMetrics()
    engine = make_engine(settings.database_url)
    store = EventStore(engine)
    if metrics_port:
        serve_ops(
            metrics_host,
            metrics_port,
            metrics.registry,
            relay_readiness(
                store,
                progress_name=name or topic,
                kafka_config=kafka_client_config(kafka),
                topic=topic,
            ),
            process="relay",
        )
    relay = Relay(
        store,
        lambda: make_producer(kafka),
        RelayOptions(
            topic=topic,
            name=name,
            batch_size=batch_size,
            poll_interval=poll_interval,
            lease_seconds=lease_seconds,
        ),
        metrics=metrics,
    )
    try:
        relay.run(stop)
    finally:
        engine.dispose()


@click.group(help="People and their API tokens.")
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
@click.option(
    "--password",
    default=None,
    help="Web sign-in password (visible to other users of this machine: prefer --password-stdin).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the web sign-in password from the first line of standard input.",
)
@_database_option
def users_create(
    org: str,
    org_kind: str | None,
    roles: tuple[str, ...],
    email: str,
    name: str | None,
    password: str | None,
    password_stdin: bool,
    database_url: str | None,
) -> None:
    from services.ledger.application import Ledger
    from services.ledger.store import EventStore, make_engine
    from services.ledger.web.passwords import set_password

    password = _password_option(password, password_stdin)
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
        if password is not None:
            set_password(uow.connection, person["id"], password)
    click.echo(
        json.dumps({"person_id": person["id"], "organisation_id": organisation_id, "token": token})
    )


def _password_option(password: str | None, from_stdin: bool) -> str | None:
    """The password given by --password or --password-stdin (checked before anything is
    written, so a bad one leaves no half-made person behind)."""
    from services.ledger.web.passwords import check_new_password

    if password is not None and from_stdin:
        raise click.UsageError("give --password or --password-stdin, not both")
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if password is not None:
        problem = check_new_password(password)
        if problem:
            raise click.BadParameter(problem, param_hint="password")
    return password


@users.command("set-password", help="Set (or reset) a person's web sign-in password.")
@click.option("--email", required=True)
@click.option("--password", default=None, help="The new password (prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_database_option
def users_set_password(
    email: str, password: str | None, password_stdin: bool, database_url: str | None
) -> None:
    from sqlalchemy import func, select

    from services.ledger.store import make_engine
    from services.ledger.store.views import people
    from services.ledger.web.passwords import set_password

    password = _password_option(password, password_stdin)
    if password is None:
        raise click.UsageError("give --password or --password-stdin")
    engine = make_engine(_settings(database_url).database_url)
    with engine.begin() as connection:
        person_id = connection.execute(
            select(people.c.id).where(func.lower(people.c.email) == email.strip().lower())
        ).scalar()
        if person_id is None:
            raise click.UsageError(f"no person with the email {email!r}")
        set_password(connection, person_id, password)
    click.echo(f"password set for {email}")


@users.group("tokens", help="A person's API tokens (the ledger stores only their digests).")
def users_tokens() -> None:
    pass


def _ledger_app(database_url: str | None):  # type: ignore[no-untyped-def]
    from services.ledger.application import Ledger
    from services.ledger.store import EventStore, make_engine

    settings = _settings(database_url)
    return Ledger(EventStore(make_engine(settings.database_url)), settings=settings)


def _organisation(ledger_app, uow, org: str):  # type: ignore[no-untyped-def]
    found = ledger_app.find_organisation(uow, org)
    if found is None:
        raise click.ClickException(f"no organisation {org!r}")
    return found


def _person(connection, email: str) -> str:  # type: ignore[no-untyped-def]
    from services.ledger.tokens_admin import person_by_email

    person_id = person_by_email(connection, email)
    if person_id is None:
        raise click.ClickException(f"no person with email {email}")
    return person_id


@users_tokens.command("list", help="List a person's tokens: id, created, revoked.")
@click.option("--email", required=True)
@_database_option
def users_tokens_list(email: str, database_url: str | None) -> None:
    from services.ledger.tokens_admin import tokens_of

    ledger_app = _ledger_app(database_url)
    with ledger_app.store.engine.connect() as connection:
        rows = tokens_of(connection, _person(connection, email))
    click.echo(json.dumps([row.to_json() for row in rows], indent=2))


@users_tokens.command(
    "rotate",
    help="Issue a new API token for a person, print it (shown once), then revoke every other "
    "token of theirs: the old ones answer 401 on the ledger's API at once.",
)
@click.option("--email", required=True)
@click.option("--dry-run", is_flag=True, help="Say which tokens would be revoked; change nothing.")
@_database_option
def users_tokens_rotate(email: str, dry_run: bool, database_url: str | None) -> None:
    from services.ledger.tokens_admin import TOKEN_ID_LENGTH, revoke, tokens_of
    from shared import clock
    from shared.tokens import hash_token

    ledger_app = _ledger_app(database_url)
    if dry_run:
        with ledger_app.store.engine.connect() as connection:
            rows = tokens_of(connection, _person(connection, email))
        live = [row.token_id for row in rows if row.revoked_at is None]
        click.echo(f"dry run: would issue a new token and revoke {live}")
        return
    with ledger_app.store.unit_of_work() as uow:
        person_id = _person(uow.connection, email)
        token = ledger_app.issue_token(uow, person_id)
        # The new token is printed (below) only after the transaction commits.
        revoked = revoke(
            uow.connection, clock.now(), person_id=person_id, keep_hash=hash_token(token)
        )
        ledger_app.announce_revoked_tokens(uow, revoked)
    ids = [digest[:TOKEN_ID_LENGTH] for digest in revoked]
    click.echo(json.dumps({"person_id": person_id, "token": token, "revoked": ids}))


@users_tokens.command(
    "revoke",
    help="Revoke every token of a person (--email) or one token (--token-id, as `tokens list` "
    "prints it). The ledger's API answers 401 to them at once.",
)
@click.option("--email", default=None)
@click.option("--token-id", default=None)
@click.option("--dry-run", is_flag=True, help="Say what would be revoked; change nothing.")
@_database_option
def users_tokens_revoke(
    email: str | None, token_id: str | None, dry_run: bool, database_url: str | None
) -> None:
    from services.ledger.tokens_admin import TOKEN_ID_LENGTH

    if (email is None) == (token_id is None):
        raise click.UsageError("give either --email or --token-id")
    ledger_app = _ledger_app(database_url)
    if dry_run:  # the same statements, rolled back when the connection closes
        with ledger_app.store.engine.connect() as connection:
            revoked = _revoke(connection, email, token_id)
    else:
        with ledger_app.store.unit_of_work() as uow:
            revoked = _revoke(uow.connection, email, token_id)
            # The notifier learns of it from the event log (ApiTokensRevoked), in this commit.
            ledger_app.announce_revoked_tokens(uow, revoked)
    if not revoked and token_id:
        raise click.ClickException(f"no live token {token_id}")
    prefix = "dry run: would revoke" if dry_run else "revoked"
    ids = [digest[:TOKEN_ID_LENGTH] for digest in revoked]
    click.echo(f"{prefix} {len(revoked)} token(s): {', '.join(ids)}")


def _revoke(connection, email: str | None, token_id: str | None) -> list[str]:  # type: ignore[no-untyped-def]
    from services.ledger.tokens_admin import revoke
    from shared import clock

    person_id = _person(connection, email) if email else None
    try:
        return revoke(connection, clock.now(), person_id=person_id, token_id=token_id)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@click.group(help="Organisations.")
def organisations() -> None:
    pass


@organisations.command(
    "export",
    help="Print (or write) everything about one organisation as JSON: the organisation, its "
    "people (without password hashes or token digests), partnerships, agreements, claims with "
    "their history of events, payments with their allocations. Reads only.",
)
@click.option("--org", "org", required=True, help="Organisation id or exact name.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file.")
@_database_option
def organisations_export(org: str, out: str | None, database_url: str | None) -> None:
    from services.ledger.export import export_organisation

    ledger_app = _ledger_app(database_url)
    with ledger_app.store.unit_of_work() as uow:
        found = _organisation(ledger_app, uow, org)
    document = export_organisation(ledger_app.store, found.id)
    _audit_cli_export(ledger_app, found.id)
    _echo_json(document, out)


@organisations.group(
    "idp",
    help="An organisation's identity provider (OpenID Connect): its staff sign in with their "
    "organisation's account instead of a Bridges password.",
)
def organisations_idp() -> None:
    pass


@organisations_idp.command(
    "set",
    help="Set (or replace) the organisation's provider. The client secret is named, never "
    "given: --client-secret-env NAME (read from the ledger's environment) or "
    "--client-secret-file PATH. Map groups with --map GROUP=ROLE (repeat).",
)
@click.option("--org", "org", required=True, help="Organisation id or exact name.")
@click.option("--issuer", required=True, help="The issuer URL, as its discovery document says.")
@click.option("--client-id", required=True)
@click.option("--client-secret-env", default=None, help="Environment variable holding the secret.")
@click.option(
    "--client-secret-file",
    default=None,
    type=click.Path(dir_okay=False, resolve_path=True),
    help="File holding the secret.",
)
@click.option(
    "--groups-claim",
    default="groups",
    show_default=True,
    help="ID token claim listing the person's groups (Entra ID: groups, or roles for app roles).",
)
@click.option("--map", "mappings", multiple=True, required=True, help="GROUP=ROLE; repeat.")
@_database_option
def organisations_idp_set(
    org: str,
    issuer: str,
    client_id: str,
    client_secret_env: str | None,
    client_secret_file: str | None,
    groups_claim: str,
    mappings: tuple[str, ...],
    database_url: str | None,
) -> None:
    from services.ledger.domain.errors import ValidationFailed
    from services.ledger.identity import save_provider
    from shared import clock

    if (client_secret_env is None) == (client_secret_file is None):
        raise click.UsageError("give one of --client-secret-env and --client-secret-file")
    ref = f"env:{client_secret_env}" if client_secret_env else f"file:{client_secret_file}"
    role_map: dict[str, list[str]] = {}
    for mapping in mappings:
        group, equals, role = mapping.rpartition("=")
        if not equals or not group:
            raise click.UsageError(f"--map {mapping!r}: write GROUP=ROLE")
        role_map.setdefault(group, []).append(role)
    ledger_app = _ledger_app(database_url)
    with ledger_app.store.unit_of_work() as uow:
        found = _organisation(ledger_app, uow, org)
        try:
            provider = save_provider(
                uow.connection,
                clock.now(),
                found.id,
                found.kind,
                issuer=issuer,
                client_id=client_id,
                client_secret_ref=ref,
                groups_claim=groups_claim,
                role_map=role_map,
            )
        except ValidationFailed as error:
            raise click.ClickException(json.dumps(error.errors, sort_keys=True)) from None
    click.echo(json.dumps(provider.to_json(), sort_keys=True))


@organisations_idp.command("show", help="Print the organisations' providers (all, or --org).")
@click.option("--org", "org", default=None, help="Organisation id or exact name.")
@_database_option
def organisations_idp_show(org: str | None, database_url: str | None) -> None:
    from services.ledger.identity import all_providers

    ledger_app = _ledger_app(database_url)
    with ledger_app.store.unit_of_work() as uow:
        providers = all_providers(uow.connection)
        if org is not None:
            found = _organisation(ledger_app, uow, org)
            providers = [p for p in providers if p.organisation_id == found.id]
    for provider in providers:
        click.echo(json.dumps(provider.to_json(), sort_keys=True))


@organisations_idp.command(
    "remove",
    help="Forget the organisation's provider: its people sign in with a password again (if "
    "they have one), with the roles they were added with.",
)
@click.option("--org", "org", required=True, help="Organisation id or exact name.")
@_database_option
def organisations_idp_remove(org: str, database_url: str | None) -> None:
    from services.ledger.identity import remove_provider

    ledger_app = _ledger_app(database_url)
    with ledger_app.store.unit_of_work() as uow:
        found = _organisation(ledger_app, uow, org)
        removed = remove_provider(uow.connection, found.id)
    click.echo("removed" if removed else "the organisation had no identity provider")


@click.group(help="The access audit: who viewed or exported whose statements and personal data.")
def audit() -> None:
    pass


@audit.command("list", help="List accesses, newest first, as JSON lines.")
@click.option("--org", "org", default=None, help="Whose data: organisation id or exact name.")
@click.option("--person", default=None, help="Who: the email of the person who looked.")
@click.option("--action", type=click.Choice(["view", "download", "export"]), default=None)
@click.option("--resource", type=click.Choice(["statement", "claim", "organisation"]), default=None)
@click.option("--since", type=click.DateTime(), default=None, help="From this UTC time.")
@click.option("--until", type=click.DateTime(), default=None, help="Before this UTC time.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@_database_option
def audit_list(
    org: str | None,
    person: str | None,
    action: str | None,
    resource: str | None,
    since: Any,
    until: Any,
    limit: int,
    database_url: str | None,
) -> None:
    from datetime import UTC

    from services.ledger.audit import AuditFilter, list_access

    ledger_app = _ledger_app(database_url)
    with ledger_app.reading() as uow:
        organisation_id = None
        if org is not None:
            found = _organisation(ledger_app, uow, org)
            organisation_id = found.id
        actor = _person(uow.connection, person) if person is not None else None
        rows = list_access(
            uow.connection,
            AuditFilter(
                organisation_id=organisation_id,
                actor=actor,
                action=action,
                resource=resource,
                since=since.replace(tzinfo=UTC) if since else None,
                until=until.replace(tzinfo=UTC) if until else None,
                limit=limit,
            ),
        )
    for row in rows:
        click.echo(json.dumps(row, sort_keys=True))


def _audit_cli_export(  # type: ignore[no-untyped-def]
    ledger_app, organisation_id: str, resource: str = "organisation", resource_id: str = ""
) -> None:
    """An operator's export goes in the access audit as `cli:<login>`."""
    import getpass

    from services.ledger.audit import record_access
    from shared import clock

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in this environment
        login = str(os.getuid())
    record_access(
        ledger_app.store.engine,
        clock.now(),
        f"cli:{login}",
        [organisation_id],
        "export",
        resource,
        resource_id or organisation_id,
    )


@click.group(help="The keys the services share.")
def keys() -> None:
    pass


@keys.command(
    "rotate-token-key",
    help="Rotate the key API tokens are signed with. Grace period: the notifier accepts tokens "
    "signed with the current key or the previous one (BRIDGES_TOKEN_KEY_PREVIOUS, else "
    "var/token_key.previous), so existing tokens keep working while you reissue them with "
    "`bridges users tokens rotate`; then remove the previous key to end the grace period. "
    "(The ledger checks a token by its stored digest, so a rotation alone does not revoke "
    "anything there.) With the key in var/ (no BRIDGES_TOKEN_KEY), the file is rotated and the "
    "old key kept as var/token_key.previous; with BRIDGES_TOKEN_KEY set, a new key is printed: "
    "set it as BRIDGES_TOKEN_KEY and the old value as BRIDGES_TOKEN_KEY_PREVIOUS on every "
    "ledger and notifier, then restart them.",
)
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
def keys_rotate_token_key(dry_run: bool) -> None:
    from shared.settings import var_dir_path
    from shared.tokens import KEY_ENV, new_key, rotate_key_file

    var_dir = var_dir_path()
    if os.environ.get(KEY_ENV):
        if dry_run:
            click.echo("dry run: would print a new key for BRIDGES_TOKEN_KEY")
            return
        click.echo(
            json.dumps(
                {
                    "BRIDGES_TOKEN_KEY": new_key(),
                    "BRIDGES_TOKEN_KEY_PREVIOUS": "the current value of BRIDGES_TOKEN_KEY",
                }
            )
        )
        return
    if dry_run:
        click.echo(f"dry run: would rotate {var_dir / 'token_key'} (old key kept as previous)")
        return
    rotate_key_file(var_dir)
    click.echo(
        f"rotated {var_dir / 'token_key'}; the old key is {var_dir / 'token_key.previous'} "
        "until you delete it; restart the ledger and the notifier"
    )


@click.group(help="The demo partnership.")
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
        click.echo(f"web sign-in password for every demo person: {result['web']['password']}")


@click.group(help="The Kafka cluster the ledger publishes to (env KAFKA_BOOTSTRAP_SERVERS etc.).")
def kafka() -> None:
    pass


@kafka.command(
    "init",
    help=(
        "Create the events topic and its dead-letter topic if they do not exist (retention.ms=-1)"
        " and say, for each, whether it was created or already existed."
    ),
)
@click.option(
    "--partitions",
    show_envvar=True,
    envvar="BRIDGES_EVENTS_PARTITIONS",
    default=6,
    show_default=True,
    type=click.IntRange(min=1),
    help="Partitions of a new topic.",
)
@click.option(
    "--replication-factor",
    show_envvar=True,
    envvar="BRIDGES_EVENTS_REPLICATION_FACTOR",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Replicas of each partition: 3 on a three-broker cluster.",
)
@click.option(
    "--min-insync-replicas",
    show_envvar=True,
    envvar="BRIDGES_EVENTS_MIN_INSYNC_REPLICAS",
    default=None,
    type=click.IntRange(min=1),
    help="min.insync.replicas of the topics: 2 with replication factor 3 (default: broker's).",
)
@click.option(
    "--topic", envvar="BRIDGES_EVENTS_TOPIC", show_envvar=True, default=None, help="Events topic."
)
@click.option(
    "--dlq-topic",
    envvar="BRIDGES_DLQ_TOPIC",
    show_envvar=True,
    default=None,
    help="Dead-letter topic.",
)
def kafka_init(
    partitions: int,
    replication_factor: int,
    min_insync_replicas: int | None,
    topic: str | None,
    dlq_topic: str | None,
) -> None:
    import dataclasses

    from services.ledger.relay.topics import ensure_topics, event_topics
    from shared.settings import KafkaSettings, kafka_client_config

    settings = KafkaSettings.from_env()
    if topic:
        settings = dataclasses.replace(settings, events_topic=topic)
    if dlq_topic:
        settings = dataclasses.replace(settings, dlq_topic=dlq_topic)
    try:
        specs = event_topics(
            settings,
            partitions=partitions,
            replication_factor=replication_factor,
            min_insync_replicas=min_insync_replicas,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    for outcome in ensure_topics(kafka_client_config(settings), specs):
        click.echo(outcome.describe())


@click.group(help="People's data: erasure, subject access export, retention.")
def people() -> None:
    pass


@people.command(
    "erase",
    help="Erase a person's personal data: destroy the data keys of their record and of every "
    "claim they submitted or that names them, so those fields read 'erased' in the ledger, the "
    "topic and the notifier. Amounts, dates and statuses stay. Recorded as a "
    "PersonalDataErased event that names no one.",
)
@click.option("--person", required=True, help="The person's id or email.")
@click.option("--dry-run", is_flag=True, help="Say what would be erased; change nothing.")
@_database_option
def people_erase(person: str, dry_run: bool, database_url: str | None) -> None:
    from services.ledger.errors import NotFound
    from services.ledger.people import erase_person

    try:
        erasure = erase_person(_ledger_app(database_url), None, person, dry_run=dry_run)
    except NotFound:
        raise click.ClickException(f"no person {person!r}") from None
    _echo_json(erasure.to_json())


@people.command(
    "export",
    help="Print (or write) everything held about a person as JSON (subject access): their "
    "record and roles, the claims they submitted or that name them with their history, what "
    "they did, their API tokens, erasures; with --notifier-database-url also the alerts and "
    "statements sent to them. Reads only.",
)
@click.option("--person", required=True, help="The person's id or email.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file.")
@click.option(
    "--notifier-database-url",
    envvar="NOTIFIER_DATABASE_URL",
    default=None,
    help="The notifier's database, for the deliveries to the person.",
)
@_database_option
def people_export(
    person: str, out: str | None, notifier_database_url: str | None, database_url: str | None
) -> None:
    from services.ledger.people import export_person, find_person

    ledger_app = _ledger_app(database_url)
    with ledger_app.store.engine.connect() as connection:
        found = find_person(connection, person)
    if found is None:
        raise click.ClickException(f"no person {person!r}")
    alerts_sent = None
    if notifier_database_url:
        from services.notifier.api.routes import deliveries_to_person
        from shared.sql import make_engine

        with make_engine(notifier_database_url).connect() as connection:
            sent = deliveries_to_person(connection, found.id)
        alerts_sent = {"available": sent is not None, "deliveries": sent or []}
    document = export_person(ledger_app, found.id, alerts_sent=alerts_sent)
    _audit_cli_export(ledger_app, found.organisation_id, "person", found.id)
    _echo_json(document, out)


@people.command(
    "retention",
    help="Erase the personal fields of claims closed (paid, rejected or withdrawn) at least "
    "BRIDGES_RETENTION_CLOSED_CLAIM_DAYS days ago (or --days). Off while that is 0. Run it "
    "daily (cron, a Kubernetes CronJob).",
)
@click.option("--days", type=click.IntRange(min=1), default=None, help="Override the setting.")
@click.option("--dry-run", is_flag=True, help="Say what would be erased; change nothing.")
@_database_option
def people_retention(days: int | None, dry_run: bool, database_url: str | None) -> None:
    from services.ledger.people import apply_retention

    ledger_app = _ledger_app(database_url)
    period = days or ledger_app.settings.retention_closed_claim_days
    if not period:
        click.echo("retention is off (BRIDGES_RETENTION_CLOSED_CLAIM_DAYS is 0): nothing erased")
        return
    _echo_json(apply_retention(ledger_app, period, dry_run=dry_run).to_json())


@people.command(
    "seal-legacy",
    help="Seal the personal fields of events stored before sealing existed (migration 0006), "
    "each under its person's or claim's key; nothing else in those events changes. Run once "
    "after upgrading, before republishing the store to a fresh topic.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be sealed; change nothing.")
@_database_option
def people_seal_legacy(dry_run: bool, database_url: str | None) -> None:
    from services.ledger.people import seal_legacy

    _echo_json(seal_legacy(_ledger_app(database_url), dry_run=dry_run))


@click.group(help="Receipts kept for expense lines.")
def receipts() -> None:
    pass


@receipts.command(
    "purge-unattached",
    help="Delete the receipts uploaded more than HOURS ago that no claim ever carried (a form "
    "left unfinished, a file chosen by mistake): their bytes from the receipt storage and their "
    "row. Receipts on a claim are never touched. Run it daily (cron, a Kubernetes CronJob).",
)
@click.option(
    "--older-than",
    "hours",
    type=click.IntRange(min=1),
    required=True,
    help="Hours since upload (give people time to finish the claim form: 72 is generous).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; change nothing.")
@_database_option
def receipts_purge_unattached(hours: int, dry_run: bool, database_url: str | None) -> None:
    from datetime import timedelta

    from services.ledger.receipts.cleanup import purge_unattached

    found = purge_unattached(_ledger_app(database_url), timedelta(hours=hours), dry_run=dry_run)
    _echo_json(
        {
            "dry_run": dry_run,
            "older_than_hours": hours,
            "purged" if not dry_run else "would_purge": [r.to_json() for r in found],
        }
    )


LEDGER_GROUPS = (db, ledger, users, keys, organisations, people, audit, demo, kafka, receipts)
